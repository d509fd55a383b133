import { z } from 'zod';
import { field } from '../platform/forms.ts';
import { TITLE_MAX } from './manifest.ts';

export const lessonParam = z.object({ lessonId: z.coerce.number().int().positive().max(2 ** 31 - 1) });
export const learnerParams = lessonParam.extend({ learnerId: z.coerce.number().int().positive().max(2 ** 31 - 1) });
export const partQuery = z.object({ part: z.coerce.number().int().positive().max(2 ** 31 - 1).optional() });

/** The upload form: where the lesson goes ("<course id>:<unit id>") and an optional title. */
export const importSchema = z.object({
  place: z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(/^[1-9][0-9]{0,9}:[1-9][0-9]{0,9}$/, 'validation:choose')),
  title: field.optionalText(TITLE_MAX),
});

/** A commit as the player sends it (the body of a text/plain or JSON POST, or of a beacon). */
export const commitSchema = z.object({
  token: z.string().max(300),
  session: z.number().int().positive().max(2 ** 31 - 1).optional(),
  seq: z.number().int().positive().max(2 ** 31 - 1),
  final: z.boolean().optional(),
  cmi: z.record(z.string(), z.unknown()),
  adl: z.unknown().optional(),
});
