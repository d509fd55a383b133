import { z } from 'zod';
import { field } from '../platform/forms.ts';
import { CONTEXT_KINDS } from './thread.entity.ts';

export const idParam = z.object({ id: z.coerce.number().int().positive() });
export const fileParam = z.object({ id: z.coerce.number().int().positive(), fileId: z.coerce.number().int().positive() });
export const contextParam = z.object({ kind: z.enum(CONTEXT_KINDS), id: z.coerce.number().int().positive() });

/**
 * The idempotency key every on-call form carries (made when the page was drawn). A form without a
 * well-formed one is refused rather than risk storing it twice.
 */
const requestId = z.string('oncall:thread.outdated').regex(/^[A-Za-z0-9-]{8,64}$/, 'oncall:thread.outdated');

export const QUESTION_MAX = 2000;
export const questionSchema = z.object({
  body: field.text(QUESTION_MAX),
  requestId,
  cohortId: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().positive().optional()),
});
/** A reply may be only a voice note or a photo; the service checks that something was sent. */
export const replySchema = z.object({ body: field.optionalText(QUESTION_MAX), requestId });

/** "18:30" → 1110 minutes; "24:00" is the end of the day. */
const clock = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim() : v),
  z
    .string()
    .min(1)
    .regex(/^([01]?\d|2[0-4]):[0-5]\d$/, 'oncall:rota.timeFormat')
    .transform((s) => {
      const [h, m] = s.split(':').map(Number) as [number, number];
      return h * 60 + m;
    })
    .refine((n) => n <= 24 * 60, 'oncall:rota.timeFormat'),
);
export const shiftSchema = z.object({
  cohortId: field.int(1, 2 ** 31 - 1),
  weekday: field.int(1, 7),
  start: clock,
  end: clock,
});

export const ANNOUNCEMENT_MAX = 2000;
export const announcementSchema = z.object({ cohortId: field.int(1, 2 ** 31 - 1), body: field.text(ANNOUNCEMENT_MAX) });

const day = z.preprocess((v) => (typeof v === 'string' && v.trim() ? v.trim() : undefined), z.iso.date().optional());
export const periodSchema = z.object({
  from: day,
  to: day,
  programme: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().positive().optional()),
});
