import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';
import { field } from '../platform/forms.ts';
import { LANGUAGES } from '../platform/i18n.ts';
import { LEGAL_STATUSES, ROLES, SEXES } from './user.entity.ts';

const TIME_ZONES = new Set(Intl.supportedValuesOf('timeZone').concat('UTC'));
const COUNTRIES = new Set(
  'AF AL DZ AO AM AZ BD BY BF BI KH CM CF TD CO CD CG CI CU DJ EG ER ET GE GH GN GW HT IN ID IR IQ JO KZ KE KG LB LR LY ML MR MA MM NP NI NE NG KP PK PS PH RU RW SA SN SL SO ZA SS LK SD SY TJ TZ TG TN TR TM UG UA UZ VE VN YE ZM ZW GR GB US FR DE IT ES NL BE SE NO DK FI AT CH PL RO BG HU CZ SK PT IE CY MT AU NZ CA MY TH TL LA MN BT MV AE QA KW OM BH BR AR MX PE EC BO CL UY PY GT HN SV PA CR DO JM'.split(' '),
);
export const COUNTRY_CODES = [...COUNTRIES].sort();

export const usernameField = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
  z.string().min(1).regex(/^[a-z0-9][a-z0-9._-]{2,31}$/, 'accounts:errors.usernameFormat'),
);

/** E.164 after parsing whatever the person typed (spaces, dashes); must include the country code. */
export const phoneField = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  z
    .string()
    .max(32)
    .transform((v, ctx) => {
      const parsed = parsePhoneNumberFromString(v.trim());
      if (!parsed || !parsed.isValid()) {
        ctx.addIssue({ code: 'custom', message: 'accounts:errors.phoneFormat' });
        return z.NEVER;
      }
      return parsed.number as string;
    })
    .optional(),
);

export const newPasswordField = z.string().min(8, 'accounts:errors.passwordShort').max(200);

export const loginSchema = z.object({
  login: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(200),
});

export const changePasswordSchema = z
  .object({
    currentPassword: z.string().max(200).optional(),
    newPassword: newPasswordField,
    confirmPassword: z.string().max(200),
  })
  .refine((v) => v.newPassword === v.confirmPassword, { path: ['confirmPassword'], message: 'accounts:errors.passwordsDiffer' });

export const profileSchema = z.object({
  displayName: field.text(120),
  language: field.enum(LANGUAGES),
  timeZone: z.string().refine((v) => TIME_ZONES.has(v), 'accounts:errors.timeZone'),
  dataSaver: field.checkbox(),
  phone: phoneField,
  sex: field.optionalEnum(SEXES),
  birthYear: field.optionalInt(1900, new Date().getUTCFullYear()),
  nationality: z.preprocess((v) => (v === '' ? undefined : v), z.string().refine((v) => COUNTRIES.has(v), 'validation:choose').optional()),
  legalStatus: field.optionalEnum(LEGAL_STATUSES),
  disability: field.optionalYesNo(),
});
export type ProfileInput = z.output<typeof profileSchema>;

export const newUserSchema = z.object({
  username: usernameField,
  displayName: field.text(120),
  role: field.enum(ROLES),
  phone: phoneField,
  language: field.optionalEnum(LANGUAGES),
});
export type NewUserInput = z.output<typeof newUserSchema>;

export const languageSchema = z.object({
  lng: field.enum(LANGUAGES),
  next: z.string().max(500).optional(),
});
