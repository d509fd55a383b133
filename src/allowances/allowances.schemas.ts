import { z } from 'zod';
import { field } from '../platform/forms.ts';
import { RULES, UNITS } from './allowance.entity.ts';
import { PERIOD_KINDS, isLocalDate } from './periods.ts';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

export const idParam = z.object({ id: z.coerce.number().int().positive() });
export const periodParam = z.object({
  id: z.coerce.number().int().positive(),
  start: z.string().refine(isLocalDate),
});
export const issueParam = z.object({ id: z.coerce.number().int().positive(), issueId: z.coerce.number().int().positive() });
export const learnerParam = z.object({ id: z.coerce.number().int().positive(), learnerId: z.coerce.number().int().positive() });

const date = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined),
  z.string().refine(isLocalDate, 'allowances:errors.date'),
);

/** Checkbox groups arrive as nothing, one value or a list. */
const idList = z.preprocess(
  (v) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]),
  z.array(z.coerce.number().int().positive()).max(500),
);

const termsShape = {
  unit: field.enum(UNITS),
  currency: z.preprocess((v) => (typeof v === 'string' && v.trim() ? v.trim().toUpperCase() : undefined), z.string().optional()),
  amount: field.int(1, 1_000_000_000),
  period: field.enum(PERIOD_KINDS),
  startsOn: date,
  budget: field.int(1, 2_000_000_000),
  rule: field.enum(RULES),
  threshold: field.optionalInt(1, 100_000),
  cohortIds: idList,
  siteIds: idList,
  note: field.optionalText(500),
};

const termsObject = z.object(termsShape);
type TermsFields = z.output<typeof termsObject>;

function checkTerms(v: TermsFields, ctx: z.RefinementCtx) {
  if (v.unit === 'airtime' && !(v.currency && CURRENCIES.has(v.currency))) {
    ctx.addIssue({ code: 'custom', path: ['currency'], message: 'allowances:errors.currency' });
  }
  if (v.budget < v.amount) ctx.addIssue({ code: 'custom', path: ['budget'], message: 'allowances:errors.budgetBelowAmount' });
  if ((v.rule === 'lessons' || v.rule === 'minutes') && v.threshold === undefined) {
    ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'allowances:errors.threshold' });
  }
}

/** Currency only for airtime; a threshold only where the rule counts something. */
function finishTerms<T extends TermsFields>(v: T): Omit<T, 'currency' | 'threshold'> & { currency: string | null; threshold: number } {
  return { ...v, currency: v.unit === 'airtime' ? v.currency! : null, threshold: v.rule === 'lessons' || v.rule === 'minutes' ? v.threshold! : 1 };
}

/** The terms of a scheme as the scheme form sends them, for the first version and every change. */
export const termsSchema = termsObject.superRefine(checkTerms).transform(finishTerms);
export type TermsInput = z.output<typeof termsSchema>;
export const newSchemeSchema = termsObject.extend({ name: field.text(120) }).superRefine(checkTerms).transform(finishTerms);

/** The preview form's one-time key: the same key twice is the same batch. */
export const issueSchema = z.object({ key: z.string().regex(/^[0-9a-f-]{36}$/) });

/** A cancellation says why; without a reason the batch page asks for one. */
export const cancelSchema = z.object({ note: z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), z.string().min(1, 'allowances:batch.noteNeeded').max(500)) });

export const usageQuery = z.object({
  month: z.preprocess((v) => (typeof v === 'string' && /^\d{4}-\d{2}$/.test(v) ? v : undefined), z.string().optional()),
});
