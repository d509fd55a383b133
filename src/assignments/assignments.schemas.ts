import { z } from 'zod';
import { field } from '../platform/forms.ts';
import { SUBMISSION_FORMS } from './assignment.entity.ts';

export const idParam = z.object({ id: z.coerce.number().int().positive() });
export const fileParam = z.object({ fileId: z.coerce.number().int().positive() });
export const assignmentFileParam = z.object({ id: z.coerce.number().int().positive(), fileId: z.coerce.number().int().positive() });
export const extensionParam = z.object({ id: z.coerce.number().int().positive(), learnerId: z.coerce.number().int().positive() });

/** Checkboxes with one name arrive as a string when one is ticked, an array when several are. */
const list = (v: unknown) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]);

/** What a datetime-local input sends; turned into an instant in the teacher's zone by the service. */
const localTime = z.preprocess((v) => (typeof v === 'string' ? v.trim().slice(0, 16) : v), z.string().min(1).regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, 'assignments:form.dateFormat'));
const optionalLocalTime = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim().slice(0, 16) : v),
  z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, 'assignments:form.dateFormat').optional(),
);

export const assignmentSchema = z
  .object({
    title: field.text(200),
    instructions: z.preprocess((v) => (typeof v === 'string' ? v.replace(/\r\n/g, '\n').trim() : ''), z.string().max(20000)),
    cohortIds: z.preprocess(list, z.array(z.coerce.number().int().positive()).min(1, 'assignments:form.chooseCohort').max(50)),
    unitId: field.optionalInt(1, 2_147_483_647),
    opensAt: localTime,
    dueAt: localTime,
    cutoffAt: optionalLocalTime,
    forms: z.preprocess(list, z.array(z.enum(SUBMISSION_FORMS)).min(1, 'assignments:form.chooseForm')),
    maxFiles: field.int(1, 10),
    maxFileMb: field.int(1, 50),
    grading: field.enum(['points', 'rubric'] as const),
    maxPoints: field.optionalInt(1, 1000),
    rubric: z.preprocess((v) => (typeof v === 'string' ? v.trim() : ''), z.string().max(4000)),
    resubmissionAllowed: field.checkbox(),
  })
  .superRefine((v, ctx) => {
    if (v.grading === 'points' && v.maxPoints === undefined) ctx.addIssue({ code: 'custom', path: ['maxPoints'], message: 'validation:required' });
    if (v.grading === 'rubric' && !v.rubric) ctx.addIssue({ code: 'custom', path: ['rubric'], message: 'validation:required' });
  });
export type AssignmentInput = z.output<typeof assignmentSchema>;

export const extensionSchema = z.object({
  learnerId: z.coerce.number('validation:choose').int().positive('validation:choose'),
  dueAt: localTime,
});

/** The learner's work form; files come separately through the upload checks. */
export const workSchema = z.object({
  text: z.preprocess((v) => (typeof v === 'string' ? v.replace(/\r\n/g, '\n').trim() : undefined), z.string().max(20000).optional()),
  action: z.enum(['draft', 'submit']).default('draft'),
  revision: z.coerce.number().int().min(0).default(0),
});

export const gradeSchema = z.object({
  score: field.optionalInt(0, 1000),
  feedback: z.preprocess((v) => (typeof v === 'string' ? v.replace(/\r\n/g, '\n').trim() : ''), z.string().max(10000)),
  bankCommentId: field.optionalInt(1, 2_147_483_647),
  saveToBank: field.checkbox(),
  release: field.checkbox(),
  /** The grade revision the teacher saw, to tell them when someone else changed it meanwhile. */
  seenRevision: z.coerce.number().int().min(0).default(0),
});

export const commentSchema = z.object({ text: field.text(1000) });

export const gradebookQuery = z.object({ quizzes: z.enum(['1']).optional() });

/** Which page of each part of the grading queue the teacher's list shows; anything else means the first. */
const pageNumber = z.coerce.number().int().min(1).max(1_000_000).catch(1).default(1);
export const queueQuery = z.object({ page: pageNumber, releasePage: pageNumber });
