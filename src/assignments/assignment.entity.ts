import { defineEntity, p } from '@mikro-orm/core';
import { User } from '../accounts/index.ts';
import { Unit } from '../courses/index.ts';
import { Cohort } from '../programmes/index.ts';

/** What a learner may hand in: a typed answer, photos, PDFs, voice recordings. */
export const SUBMISSION_FORMS = ['text', 'photo', 'pdf', 'audio'] as const;
export type SubmissionForm = (typeof SUBMISSION_FORMS)[number];

export interface RubricLevel {
  id: string;
  title: string;
  points: number;
}
export interface RubricCriterion {
  id: string;
  title: string;
  levels: RubricLevel[];
}
export interface Rubric {
  criteria: RubricCriterion[];
}

const AssignmentSchema = defineEntity({
  name: 'Assignment',
  tableName: 'assignments',
  indexes: [{ properties: ['dueAt'] }],
  checks: [
    { name: 'assignments_dates_check', expression: 'due_at >= opens_at and (cutoff_at is null or cutoff_at >= due_at)' },
    { name: 'assignments_limits_check', expression: 'max_points > 0 and max_files >= 0 and max_files <= 10 and max_file_mb >= 1 and max_file_mb <= 50' },
  ],
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(200),
    /** Markdown as the teacher wrote it (for editing). */
    instructions: p.text(),
    /** The same rendered and sanitised at save: the only HTML a page prints. */
    instructionsHtml: p.text(),
    createdBy: () => p.manyToOne(User).ref(),
    cohorts: () => p.manyToMany(Cohort).pivotTable('assignment_cohorts').owner(),
    unit: () => p.manyToOne(Unit).nullable().ref().deleteRule('set null'),
    opensAt: p.datetime(),
    dueAt: p.datetime(),
    /** After this, nothing is accepted (an extension can move it for one learner). Null: late work is always accepted. */
    cutoffAt: p.datetime().nullable(),
    forms: p.json<SubmissionForm[]>(),
    maxFiles: p.integer().default(3),
    maxFileMb: p.integer().default(10),
    /** Points of a plain score; with a rubric, the sum of each criterion's best level. */
    maxPoints: p.integer(),
    rubric: p.json<Rubric>().nullable(),
    resubmissionAllowed: p.boolean().default(false),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export class Assignment extends AssignmentSchema.class {}
AssignmentSchema.setClass(Assignment);

/** A later due date for one learner. */
const DueExtensionSchema = defineEntity({
  name: 'DueExtension',
  tableName: 'assignment_extensions',
  uniques: [{ properties: ['assignment', 'learner'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    assignment: () => p.manyToOne(Assignment).ref().deleteRule('cascade'),
    learner: () => p.manyToOne(User).ref().index(),
    dueAt: p.datetime(),
    grantedBy: () => p.manyToOne(User).ref(),
    grantedAt: p.datetime().onCreate(() => new Date()),
  },
});
export class DueExtension extends DueExtensionSchema.class {}
DueExtensionSchema.setClass(DueExtension);

export const SUBMISSION_STATUSES = ['draft', 'submitted', 'returned'] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

/**
 * One learner's work on one assignment (unique): the draft being prepared and the count of
 * versions handed in. `revision` grows with every change, and a submit must name the revision it
 * saw, so a doubled tap on "Submit" cannot hand in a second version.
 */
const SubmissionSchema = defineEntity({
  name: 'Submission',
  tableName: 'submissions',
  uniques: [{ properties: ['assignment', 'learner'] }],
  checks: [{ name: 'submissions_version_check', expression: 'submitted_version >= 0' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    assignment: () => p.manyToOne(Assignment).ref().deleteRule('cascade'),
    learner: () => p.manyToOne(User).ref().index(),
    /** The cohort through which the learner has the assignment: its teachers grade the work. */
    cohort: () => p.manyToOne(Cohort).ref().index(),
    status: p.enum(SUBMISSION_STATUSES).default('draft'),
    draftText: p.text().default(''),
    /** Number of the latest version handed in; 0 while only a draft exists. */
    submittedVersion: p.integer().default(0),
    lastSubmittedAt: p.datetime().nullable(),
    revision: p.integer().default(0),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export class Submission extends SubmissionSchema.class {}
SubmissionSchema.setClass(Submission);

/** A handed-in version: never changed afterwards. */
const SubmissionVersionSchema = defineEntity({
  name: 'SubmissionVersion',
  tableName: 'submission_versions',
  uniques: [{ properties: ['submission', 'number'] }],
  // The queue and the counts read the lateness of the latest version from the index alone.
  indexes: [{ name: 'submission_versions_late_index', properties: ['submission', 'number'], include: ['lateSeconds'] }],
  checks: [{ name: 'submission_versions_number_check', expression: 'number >= 1 and late_seconds >= 0' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    submission: () => p.manyToOne(Submission).ref().deleteRule('cascade'),
    number: p.integer(),
    text: p.text(),
    submittedAt: p.datetime(),
    /** The due date that applied (with any extension) when it was handed in. */
    dueAt: p.datetime(),
    lateSeconds: p.integer().default(0),
  },
});
export class SubmissionVersion extends SubmissionVersionSchema.class {}
SubmissionVersionSchema.setClass(SubmissionVersion);

export const FILE_KINDS = ['image', 'pdf', 'audio'] as const;

/**
 * A file of a submission: in the draft (version null) or in a handed-in version. Starting a new
 * draft copies the rows of the last version, not the bytes, so a learner who fixes one photo does
 * not pay to send the others again; stored bytes go only when no row names them any more.
 */
const SubmissionFileSchema = defineEntity({
  name: 'SubmissionFile',
  tableName: 'submission_files',
  indexes: [{ properties: ['storageId'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    submission: () => p.manyToOne(Submission).ref().deleteRule('cascade'),
    version: () => p.manyToOne(SubmissionVersion).nullable().ref().deleteRule('cascade'),
    storageId: p.string().length(32),
    name: p.string().length(120),
    kind: p.enum(FILE_KINDS),
    mime: p.string().length(40),
    /** Size as stored (photos after downscaling). */
    bytes: p.integer(),
    /** Size as the learner sent it. */
    originalBytes: p.integer(),
    width: p.integer().nullable(),
    height: p.integer().nullable(),
    position: p.integer().default(0),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class SubmissionFile extends SubmissionFileSchema.class {}
SubmissionFileSchema.setClass(SubmissionFile);

/**
 * The grade of a submission (one per submission, for the version named). A learner sees it only
 * once `releasedAt` is set. Every change writes a GradeChange in the same transaction.
 */
const GradeSchema = defineEntity({
  name: 'Grade',
  tableName: 'grades',
  // The queue and the counts ask of each submission only which version is graded and whether it is released.
  indexes: [{ name: 'grades_state_index', properties: ['submission'], include: ['versionNumber', 'releasedAt'] }],
  checks: [{ name: 'grades_score_check', expression: 'score >= 0 and version_number >= 1' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    submission: () => p.oneToOne(Submission).owner().unique().ref().deleteRule('cascade'),
    versionNumber: p.integer(),
    score: p.integer(),
    /** Chosen level id per criterion id, when the assignment has a rubric. */
    rubricLevels: p.json<Record<string, string>>().nullable(),
    feedback: p.text().default(''),
    gradedBy: () => p.manyToOne(User).ref(),
    gradedAt: p.datetime(),
    releasedAt: p.datetime().nullable(),
    revision: p.integer().default(1),
  },
});
export class Grade extends GradeSchema.class {}
GradeSchema.setClass(Grade);

export const GRADE_ACTIONS = ['save', 'release', 'return'] as const;
export type GradeAction = (typeof GRADE_ACTIONS)[number];

/** What a grade looked like, as kept in its history. */
export interface GradeState {
  versionNumber: number;
  score: number;
  rubricLevels: Record<string, string> | null;
  feedback: string;
  released: boolean;
}

/** Append-only history of grades: who changed what, when, from what to what. */
const GradeChangeSchema = defineEntity({
  name: 'GradeChange',
  tableName: 'grade_changes',
  properties: {
    id: p.integer().primary().autoincrement(),
    submission: () => p.manyToOne(Submission).ref().index().deleteRule('cascade'),
    action: p.enum(GRADE_ACTIONS),
    changedBy: () => p.manyToOne(User).ref(),
    changedAt: p.datetime(),
    oldValue: p.json<GradeState>().nullable(),
    newValue: p.json<GradeState>().nullable(),
  },
});
export class GradeChange extends GradeChangeSchema.class {}
GradeChangeSchema.setClass(GradeChange);

/** A teacher's reusable feedback sentences. */
const FeedbackCommentSchema = defineEntity({
  name: 'FeedbackComment',
  tableName: 'feedback_comments',
  properties: {
    id: p.integer().primary().autoincrement(),
    teacher: () => p.manyToOne(User).ref().index().deleteRule('cascade'),
    text: p.text(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class FeedbackComment extends FeedbackCommentSchema.class {}
FeedbackCommentSchema.setClass(FeedbackComment);

/** "Feedback is waiting for you": one unread notice per learner and assignment. */
const FeedbackNoticeSchema = defineEntity({
  name: 'FeedbackNotice',
  tableName: 'feedback_notices',
  uniques: [{ name: 'feedback_notices_unread_unique', properties: ['learner', 'assignment'], where: 'read_at is null' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    learner: () => p.manyToOne(User).ref().index().deleteRule('cascade'),
    assignment: () => p.manyToOne(Assignment).ref().deleteRule('cascade'),
    createdAt: p.datetime(),
    readAt: p.datetime().nullable(),
  },
});
export class FeedbackNotice extends FeedbackNoticeSchema.class {}
FeedbackNoticeSchema.setClass(FeedbackNotice);

export {
  AssignmentSchema,
  DueExtensionSchema,
  SubmissionSchema,
  SubmissionVersionSchema,
  SubmissionFileSchema,
  GradeSchema,
  GradeChangeSchema,
  FeedbackCommentSchema,
  FeedbackNoticeSchema,
};
