import { z } from 'zod';
import { usernameField } from '../accounts/index.ts';
import { field } from '../platform/forms.ts';

export const idParam = z.object({ id: z.coerce.number().int().positive() });
export const programmeSchema = z.object({ name: field.text(160), description: field.optionalText(2000) });
export const siteSchema = z.object({ name: field.text(160) });
export const cohortSchema = z.object({
  name: field.text(160),
  siteId: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().positive().optional()),
});
export const usernameSchema = z.object({ username: usernameField });
export const joinSchema = z.object({
  code: z.preprocess((v) => (typeof v === 'string' ? v.replace(/[\s-]/g, '').toUpperCase() : v), z.string().min(1).regex(/^[A-Z0-9]{4,12}$/, 'programmes:join.codeFormat')),
});
