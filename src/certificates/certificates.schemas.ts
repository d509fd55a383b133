import { z } from 'zod';
import { usernameField } from '../accounts/index.ts';
import { field } from '../platform/forms.ts';
import { LANGUAGES } from '../platform/i18n.ts';
import { parseCode } from './code.ts';

/** A code in a URL, in any spelling a person may have typed; anything else names no certificate. */
export const codeParam = z.object({ code: z.string().transform((v, ctx) => parseCode(v) ?? (ctx.addIssue({ code: 'custom', message: 'certificates:errors.codeFormat' }), z.NEVER)) });
export const courseParam = z.object({ courseId: z.coerce.number().int().positive() });
export const pageQuery = z.object({ page: z.preprocess((v) => (v === undefined || v === '' ? 1 : v), z.coerce.number().int().min(1).max(10_000)).catch(1) });

export const verifyQuery = z.object({
  code: z.preprocess((v) => (typeof v === 'string' ? v.trim() : v), z.string().min(1).transform((v, ctx) => parseCode(v) ?? (ctx.addIssue({ code: 'custom', message: 'certificates:errors.codeFormat' }), z.NEVER))),
});

export const settingsSchema = z.object({
  printedName: field.text(120),
  language: field.enum(LANGUAGES),
});

export const manualIssueSchema = z.object({
  username: usernameField,
  courseId: field.int(1, 2_147_483_647),
  reason: field.text(1000),
});

export const revokeSchema = z.object({ reason: field.text(1000) });

export const ruleSchema = z.object({
  minQuizScore: field.optionalInt(0, 100),
  minAssignmentScore: field.optionalInt(0, 100),
  newEdition: field.checkbox(),
  edition: field.int(1, 1_000_000),
});
