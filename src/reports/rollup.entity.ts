import { defineEntity, p } from '@mikro-orm/core';

/**
 * Pre-aggregated figures the reports read instead of millions of progress, study-time, quiz and
 * data-use rows. Written only by rollups.ts from the courses and allowances slices' tables; ids
 * are plain columns (no foreign keys), so a rollup never stands in the way of what those slices do
 * with their records.
 */

/** One learner in one unit: lessons done (current lessons only), first start, latest completion. */
const ReportUnitProgressSchema = defineEntity({
  name: 'ReportUnitProgress',
  tableName: 'report_unit_progress',
  indexes: [{ properties: ['courseId'] }],
  properties: {
    learnerId: p.integer().primary(),
    unitId: p.integer().primary(),
    courseId: p.integer(),
    lessonsDone: p.integer(),
    startedAt: p.datetime(),
    lastCompletedAt: p.datetime().nullable(),
  },
});
export class ReportUnitProgress extends ReportUnitProgressSchema.class {}
ReportUnitProgressSchema.setClass(ReportUnitProgress);

/** One learner in one course: when they first opened a lesson of it. */
const ReportCourseProgressSchema = defineEntity({
  name: 'ReportCourseProgress',
  tableName: 'report_course_progress',
  properties: {
    learnerId: p.integer().primary(),
    courseId: p.integer().primary(),
    startedAt: p.datetime(),
  },
});
export class ReportCourseProgress extends ReportCourseProgressSchema.class {}
ReportCourseProgressSchema.setClass(ReportCourseProgress);

/**
 * Seconds one learner studied one course in one calendar month (UTC days, as study time counts
 * them), and the last day they studied it that month.
 */
const ReportStudyMonthSchema = defineEntity({
  name: 'ReportStudyMonth',
  tableName: 'report_study_months',
  indexes: [{ properties: ['month', 'learnerId'] }],
  properties: {
    learnerId: p.integer().primary(),
    courseId: p.integer().primary(),
    /** First day of the month. */
    month: p.date().primary(),
    seconds: p.bigint('number'),
    lastDay: p.date(),
  },
});
export class ReportStudyMonth extends ReportStudyMonthSchema.class {}
ReportStudyMonthSchema.setClass(ReportStudyMonth);

/**
 * One learner's study seconds in one row, running totals month by month: `language[i]` is what
 * they studied in language courses from `firstMonth` through the i-th month (1-based), likewise
 * `softSkills`. The seconds of whole months between two months are then two lookups per learner,
 * so the hours report reads one row per learner instead of summing a row per learner, course and
 * month (half a million for six months of a large programme). Months are counted as
 * year × 12 + month − 1, so a month's place in the arrays is a subtraction.
 */
const ReportStudyTotalsSchema = defineEntity({
  name: 'ReportStudyTotals',
  tableName: 'report_study_totals',
  properties: {
    learnerId: p.integer().primary().autoincrement(false),
    firstMonth: p.integer(),
    language: p.array((i) => Number(i)).columnType('int[]'),
    softSkills: p.array((i) => Number(i)).columnType('int[]'),
  },
});
export class ReportStudyTotals extends ReportStudyTotalsSchema.class {}
ReportStudyTotalsSchema.setClass(ReportStudyTotals);

/**
 * One learner's progress in one row, for the completion report: the courses they opened, the
 * courses they completed and the units they completed (every current lesson done), as sorted ids,
 * and the latest moment among all of them. A range that ends after `lastAt` counts the arrays as
 * they are, so learners with the same arrays are counted together instead of one course or unit at
 * a time; a range that ends earlier reads that learner's units and courses from the rollups above.
 */
const ReportLearnerProgressSchema = defineEntity({
  name: 'ReportLearnerProgress',
  tableName: 'report_learner_progress',
  properties: {
    learnerId: p.integer().primary().autoincrement(false),
    startedCourses: p.array((i) => Number(i)).columnType('int[]'),
    completedCourses: p.array((i) => Number(i)).columnType('int[]'),
    completedUnits: p.array((i) => Number(i)).columnType('int[]'),
    lastAt: p.datetime(),
  },
});
export class ReportLearnerProgress extends ReportLearnerProgressSchema.class {}
ReportLearnerProgressSchema.setClass(ReportLearnerProgress);

/**
 * Bytes Dars sent one learner in one calendar month (the learner's own days, as data use counts
 * them), and the first and last of those days: a range that holds both counts the month whole.
 */
const ReportDataMonthSchema = defineEntity({
  name: 'ReportDataMonth',
  tableName: 'report_data_months',
  indexes: [{ properties: ['month', 'learnerId'] }],
  properties: {
    learnerId: p.integer().primary().autoincrement(false),
    /** First day of the month. */
    month: p.date().primary(),
    bytes: p.bigint('number'),
    firstDay: p.date(),
    lastDay: p.date(),
  },
});
export class ReportDataMonth extends ReportDataMonthSchema.class {}
ReportDataMonthSchema.setClass(ReportDataMonth);

/**
 * One learner's attempts at one quiz: the best score, whether any passed, how many, and the first and
 * last submitted. A range holding both is counted from this row; one that cuts between them reads
 * the attempts themselves.
 */
const ReportQuizBestSchema = defineEntity({
  name: 'ReportQuizBest',
  tableName: 'report_quiz_best',
  indexes: [
    // The pairs a range's edges cut, or that lie between an edge and the nearest whole month of the
    // quiz totals below: those whose span holds an instant, and those whose last attempt falls between two.
    {
      name: 'report_quiz_best_span_index',
      expression: `create index "report_quiz_best_span_index" on "report_quiz_best" using gist (tstzrange("first_at", "last_at", '[]'))`,
    },
    { properties: ['lastAt'] },
  ],
  properties: {
    learnerId: p.integer().primary().autoincrement(false),
    lessonId: p.integer().primary().autoincrement(false),
    firstAt: p.datetime(),
    lastAt: p.datetime(),
    best: p.integer(),
    passed: p.boolean(),
    attempts: p.integer(),
  },
});
export class ReportQuizBest extends ReportQuizBestSchema.class {}
ReportQuizBestSchema.setClass(ReportQuizBest);

/**
 * One learner's quizzes in one row, running totals by the calendar month (UTC) of each learner–quiz
 * pair's last attempt: `taken[i]` is how many quizzes they took whose last attempt fell from
 * `firstMonth` through the i-th month (1-based), `bestSum` the sum of those quizzes' best scores and
 * `passed` how many of them were passed. The pairs of whole months are then two lookups per learner,
 * as for study time (ReportStudyTotals); the quiz report corrects for the pairs near the range's edges.
 */
const ReportQuizTotalsSchema = defineEntity({
  name: 'ReportQuizTotals',
  tableName: 'report_quiz_totals',
  properties: {
    learnerId: p.integer().primary().autoincrement(false),
    firstMonth: p.integer(),
    taken: p.array((i) => Number(i)).columnType('int[]'),
    bestSum: p.array((i) => Number(i)).columnType('int[]'),
    passed: p.array((i) => Number(i)).columnType('int[]'),
  },
});
export class ReportQuizTotals extends ReportQuizTotalsSchema.class {}
ReportQuizTotalsSchema.setClass(ReportQuizTotals);

/**
 * One quiz in one calendar month (UTC, year × 12 + month − 1) of its learner–quiz pairs' last
 * attempts, every learner counted: pairs, attempts, the sum of their best scores, pairs passed.
 * The per-quiz table of a report that covers most of the school is these, less its few learners
 * out of scope.
 */
const ReportQuizMonthSchema = defineEntity({
  name: 'ReportQuizMonth',
  tableName: 'report_quiz_months',
  properties: {
    lessonId: p.integer().primary().autoincrement(false),
    month: p.integer().primary().autoincrement(false),
    taken: p.integer(),
    attempts: p.integer(),
    bestSum: p.bigint('number'),
    passed: p.integer(),
  },
});
export class ReportQuizMonth extends ReportQuizMonthSchema.class {}
ReportQuizMonthSchema.setClass(ReportQuizMonth);

/**
 * What one programme's schemes gave one learner in one calendar month (by period start) in one
 * unit and currency ('' for megabytes), allowances not cancelled, and the first and last period
 * start among them: a range that holds both counts the month whole.
 */
const ReportIssueMonthSchema = defineEntity({
  name: 'ReportIssueMonth',
  tableName: 'report_issue_months',
  properties: {
    learnerId: p.integer().primary().autoincrement(false),
    programmeId: p.integer().primary().autoincrement(false),
    /** First day of the month. */
    month: p.date().primary(),
    unit: p.string().length(20).primary(),
    currency: p.string().length(3).primary(),
    amount: p.bigint('number'),
    firstDay: p.date(),
    lastDay: p.date(),
  },
});
export class ReportIssueMonth extends ReportIssueMonthSchema.class {}
ReportIssueMonthSchema.setClass(ReportIssueMonth);

/**
 * One learner's megabyte allowances from one programme in one row, running totals by the month of
 * their period start: `megabytes[i]` is what they were given from `firstMonth` through the i-th
 * month (1-based). Every learner with an allowance of the programme has a row (zeros when they had
 * airtime only). The allowance report's per-group table reads whole months as two lookups per
 * learner instead of a row per month.
 */
const ReportIssueTotalsSchema = defineEntity({
  name: 'ReportIssueTotals',
  tableName: 'report_issue_totals',
  properties: {
    learnerId: p.integer().primary().autoincrement(false),
    programmeId: p.integer().primary().autoincrement(false),
    firstMonth: p.integer(),
    megabytes: p.array((i) => Number(i)).columnType('int[]'),
  },
});
export class ReportIssueTotals extends ReportIssueTotalsSchema.class {}
ReportIssueTotalsSchema.setClass(ReportIssueTotals);

/**
 * What one programme gave every learner in one calendar month, unit and currency: the rows of
 * ReportIssueMonth summed (learners is how many rows). The monthly table of a report that covers
 * most of a programme is these, less its few learners out of scope.
 */
const ReportIssueMonthTotalSchema = defineEntity({
  name: 'ReportIssueMonthTotal',
  tableName: 'report_issue_month_totals',
  properties: {
    programmeId: p.integer().primary().autoincrement(false),
    /** First day of the month. */
    month: p.date().primary(),
    unit: p.string().length(20).primary(),
    currency: p.string().length(3).primary(),
    learners: p.integer(),
    amount: p.bigint('number'),
  },
});
export class ReportIssueMonthTotal extends ReportIssueMonthTotalSchema.class {}
ReportIssueMonthTotalSchema.setClass(ReportIssueMonthTotal);

/**
 * One learner's work on one assignment, as the turn-in report counts it: handed in (a version was
 * submitted), graded, and the seconds from the graded version's hand-in to its grade.
 */
const ReportSubmissionFactSchema = defineEntity({
  name: 'ReportSubmissionFact',
  tableName: 'report_submission_facts',
  uniques: [{ properties: ['assignmentId', 'learnerId'] }],
  properties: {
    submissionId: p.integer().primary().autoincrement(false),
    assignmentId: p.integer(),
    learnerId: p.integer(),
    turnedIn: p.boolean(),
    graded: p.boolean(),
    turnaround: p.double().nullable(),
  },
});
export class ReportSubmissionFact extends ReportSubmissionFactSchema.class {}
ReportSubmissionFactSchema.setClass(ReportSubmissionFact);

/** How far the rollups have read: the last ids seen and when, and the lessons they were counted against. */
const ReportRollupStateSchema = defineEntity({
  name: 'ReportRollupState',
  tableName: 'report_rollup_state',
  properties: {
    id: p.integer().primary(),
    lastProgressId: p.integer(),
    lastStudyId: p.integer(),
    /** Course completions are read by id too: one may come without a lesson completed in the same refresh. */
    lastCompletionId: p.integer().default(0),
    lastQuizAttemptId: p.integer().default(0),
    /** Allowances are read by their ledger: every change to one is a new ledger row. */
    lastLedgerId: p.bigint('number').default(0),
    /** Grades are read by their audit rows: every change to one writes a grade change. */
    lastGradeChangeId: p.integer().default(0),
    refreshedAt: p.datetime(),
    /** Which lessons count, in which unit, and each course's subject: when a course import changes it, the rollups are rebuilt. */
    lessonsFingerprint: p.string().length(32),
  },
});
export class ReportRollupState extends ReportRollupStateSchema.class {}
ReportRollupStateSchema.setClass(ReportRollupState);

export { ReportUnitProgressSchema, ReportCourseProgressSchema, ReportStudyMonthSchema, ReportStudyTotalsSchema, ReportLearnerProgressSchema, ReportDataMonthSchema, ReportQuizBestSchema, ReportQuizTotalsSchema, ReportQuizMonthSchema, ReportIssueMonthSchema, ReportIssueTotalsSchema, ReportIssueMonthTotalSchema, ReportSubmissionFactSchema, ReportRollupStateSchema };
