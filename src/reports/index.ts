/**
 * reports — enrolment and outcome figures for coordinators (their programmes) and admins (all),
 * for running a programme and reporting to its donors.
 *
 * Words: a *report* (enrolment, completion, hours, assignments, quizzes, allowances) answers for
 * the *filters* (programme, site, cohort, course, a range of days) and may be *broken down* by
 * sex, age band, nationality, legal status or disability — a fact a learner kept to themselves is
 * counted as *not stated*; a *cell* is one figure of a table, and a count of fewer than
 * REPORT_MIN_CELL people is *suppressed* in anything exported; the *donor report* is the printable
 * page of the headline tables. Reports only read (queries/ says how).
 */
export { reportsRoutes, type ReportsDeps } from './reports.routes.ts';
export { reportCapabilities } from './reports.policy.ts';
export { ReportUnitProgressSchema, ReportCourseProgressSchema, ReportStudyMonthSchema, ReportStudyTotalsSchema, ReportLearnerProgressSchema, ReportDataMonthSchema, ReportQuizBestSchema, ReportQuizTotalsSchema, ReportQuizMonthSchema, ReportIssueMonthSchema, ReportIssueTotalsSchema, ReportIssueMonthTotalSchema, ReportSubmissionFactSchema, ReportRollupStateSchema } from './rollup.entity.ts';
export { refreshRollups, startRollupRefresher } from './rollups.ts';
