/**
 * Whether an allowance can be sent to a learner's phone number, and to which operator.
 *
 * libphonenumber-js tells whether a number is valid, its country and whether it is a mobile
 * line; it carries no operator names. Where a country has no mobile number portability the
 * prefix still names the operator, and top-up services there ask for it (Indonesia: a Telkomsel
 * data package is not an XL one). Elsewhere (Greece moves numbers between operators freely) the
 * prefix says nothing reliable, and the operator is reported as unknown rather than guessed.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type PhoneProblem = 'missing' | 'invalid' | 'notMobile';

export type PhoneCheck =
  | { ok: true; e164: string; display: string; country: string | null; operator: string | null }
  | { ok: false; problem: PhoneProblem; display: string | null };

/** Line types a top-up cannot reach. FIXED_LINE_OR_MOBILE (e.g. the US) stays allowed. */
const NOT_MOBILE = new Set(['FIXED_LINE', 'TOLL_FREE', 'PREMIUM_RATE', 'SHARED_COST', 'VOIP', 'PAGER', 'UAN', 'VOICEMAIL']);

/** Indonesian mobile prefixes (after +62); numbers do not move between operators there. */
const INDONESIA: Record<string, string> = {};
const add = (operator: string, prefixes: string) => prefixes.split(' ').forEach((p) => (INDONESIA[p] = operator));
add('Telkomsel', '811 812 813 821 822 823 851 852 853');
add('Indosat', '814 815 816 855 856 857 858');
add('XL', '817 818 819 859 877 878');
add('Axis', '831 832 833 838');
add('Tri', '895 896 897 898 899');
add('Smartfren', '881 882 883 884 885 886 887 888 889');

export function checkPhone(phone: string | null | undefined): PhoneCheck {
  if (!phone) return { ok: false, problem: 'missing', display: null };
  const parsed = parsePhoneNumberFromString(phone);
  if (!parsed || !parsed.isValid()) return { ok: false, problem: 'invalid', display: phone };
  const display = parsed.formatInternational();
  const type = parsed.getType();
  if (type && NOT_MOBILE.has(type)) return { ok: false, problem: 'notMobile', display };
  const operator = parsed.country === 'ID' ? (INDONESIA[parsed.nationalNumber.slice(0, 3)] ?? null) : null;
  return { ok: true, e164: parsed.number, display, country: parsed.country ?? null, operator };
}
