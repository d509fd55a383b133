/**
 * Keeps the report rollups (rollup.entity.ts) up to date, incrementally, so that a report reads a
 * few hundred thousand pre-counted rows instead of millions of progress, study-time and data-use
 * rows.
 *
 * A refresh finds what changed since the previous one — new rows by id, completions and study days
 * by their indexed times — and recounts only that: the units, courses and progress rows of
 * learners whose progress moved or who completed a course, the study months that moved, the
 * learner–quiz pairs with new attempts, the allowances of learners with a new ledger row, the
 * submissions handed in or graded since, and the data-use months from the one before the last
 * refresh on. The first refresh (or one after a course import changed which lessons count, or a
 * course's subject) counts everything. Reading the courses and allowances slices' tables is the
 * reports' sanctioned exception (see queries/scope.ts); only the rollups are written.
 *
 * Refreshes run in the background every REPORT_REFRESH_MINUTES (startRollupRefresher), one at a
 * time across processes (an advisory lock); pages say how recent their figures are.
 */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../platform/logger.ts';
import { SUBJECTS } from './queries/hours.ts';

/** Changes committed a little after the previous refresh took its snapshot are caught by the next one. */
const MARGIN = "interval '10 minutes'";
const LOCK = "hashtext('dars:report-rollups')";
/** Every rollup table: emptied and counted again by a full refresh. */
const ROLLUP_TABLES =
  'report_unit_progress, report_course_progress, report_study_months, report_study_totals, report_learner_progress, report_data_months, report_quiz_best, report_quiz_totals, report_quiz_months, report_issue_months, report_issue_totals, report_issue_month_totals, report_submission_facts';

const unitRows = (where: string) => `INSERT INTO report_unit_progress (learner_id, unit_id, course_id, lessons_done, started_at, last_completed_at)
  SELECT lp.learner_id, l.unit_id, l.course_id, count(lp.completed_at), min(lp.started_at), max(lp.completed_at)
    FROM lesson_progress lp JOIN lessons l ON l.id = lp.lesson_id AND NOT l.retired AND l.unit_id IS NOT NULL
   WHERE ${where} GROUP BY lp.learner_id, l.unit_id, l.course_id`;
const courseRows = (where: string) => `INSERT INTO report_course_progress (learner_id, course_id, started_at)
  SELECT lp.learner_id, lp.course_id, min(lp.started_at) FROM lesson_progress lp WHERE ${where} GROUP BY lp.learner_id, lp.course_id`;
/**
 * One row per learner from the unit and course rollups and the course completions: a unit counts as
 * completed when every current lesson of it is done (the lessons of each unit as counted now; a
 * change to them rebuilds everything, see the fingerprint).
 */
const learnerRows = (where: string) => `INSERT INTO report_learner_progress (learner_id, started_courses, completed_courses, completed_units, last_at)
  SELECT learner_id, coalesce(array_agg(started ORDER BY started) FILTER (WHERE started IS NOT NULL), '{}'),
         coalesce(array_agg(completed ORDER BY completed) FILTER (WHERE completed IS NOT NULL), '{}'),
         coalesce(array_agg(unit ORDER BY unit) FILTER (WHERE unit IS NOT NULL), '{}'), max(at)
    FROM (
      SELECT learner_id, course_id AS started, NULL::int AS completed, NULL::int AS unit, started_at AS at FROM report_course_progress WHERE ${where}
      UNION ALL SELECT learner_id, NULL, course_id, NULL, completed_at FROM course_completions WHERE ${where}
      UNION ALL SELECT up.learner_id, NULL, NULL, up.unit_id, up.last_completed_at FROM report_unit_progress up
        JOIN (SELECT l.unit_id, count(*) AS lessons FROM lessons l WHERE NOT l.retired AND l.unit_id IS NOT NULL GROUP BY l.unit_id) u ON u.unit_id = up.unit_id
       WHERE up.lessons_done >= u.lessons AND ${where}
    ) f
   GROUP BY learner_id`;
const studyRows = (where: string) => `INSERT INTO report_study_months (learner_id, course_id, month, seconds, last_day)
  SELECT s.learner_id, s.course_id, date_trunc('month', s.day)::date, sum(s.seconds), max(s.day) FROM study_time s WHERE ${where}
   GROUP BY s.learner_id, s.course_id, date_trunc('month', s.day)`;
/**
 * One row per learner (or per `keys`) of running totals month by month, from their first month to
 * their last (months without any repeat the total before), from `per`: rows (...keys, n,
 * ...columns) with n a month as year × 12 + month − 1. The columns become int arrays in that order.
 */
const runningTotals = (per: string, columns: readonly string[], keys: readonly string[] = ['learner_id']) => {
  const key = keys.join(', ');
  const spanKey = keys.map((k) => `s.${k}`).join(', ');
  return `WITH per AS (${per}),
  span AS (SELECT ${key}, min(n) AS first, max(n) AS last FROM per GROUP BY ${key}),
  running AS (
    SELECT ${spanKey}, s.first, g.n, ${columns.map((c) => `sum(coalesce(p.${c}, 0)) OVER w AS ${c}`).join(', ')}
      FROM span s CROSS JOIN generate_series(s.first, s.last) g(n) LEFT JOIN per p ON ${keys.map((k) => `p.${k} = s.${k}`).join(' AND ')} AND p.n = g.n
    WINDOW w AS (PARTITION BY ${spanKey} ORDER BY g.n)
  )
  SELECT ${key}, first, ${columns.map((c) => `array_agg(${c}::int ORDER BY n)`).join(', ')} FROM running GROUP BY ${key}, first`;
};
/**
 * Adds what `select` yields for sign 1 to `table` (rows of its key columns, then the columns to
 * sum), or, for sign −1, takes it away: a refresh takes the rows it counts again away as they were
 * and adds them as they are.
 */
const adjust = (table: string, keys: readonly string[], sums: readonly string[], select: (sign: string) => string) => (sign: 1 | -1) =>
  `INSERT INTO ${table} AS t (${[...keys, ...sums].join(', ')}) ${select(String(sign))}
  ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${sums.map((c) => `${c} = t.${c} + excluded.${c}`).join(', ')}`;
/** Running totals of study seconds per learner and subject, from the monthly rollup (see ReportStudyTotals). */
const totalsRows = (where: string) => `INSERT INTO report_study_totals (learner_id, first_month, language, soft_skills)
  ${runningTotals(
    `SELECT m.learner_id, (extract(year FROM m.month) * 12 + extract(month FROM m.month) - 1)::int AS n,
            coalesce(sum(m.seconds) FILTER (WHERE c.subject = '${SUBJECTS.language}'), 0) AS lang,
            coalesce(sum(m.seconds) FILTER (WHERE c.subject = '${SUBJECTS.softSkills}'), 0) AS soft
       FROM report_study_months m JOIN courses c ON c.id = m.course_id WHERE ${where} GROUP BY 1, 2`,
    ['lang', 'soft'],
  )}`;

const quizRows = (where: string) => `INSERT INTO report_quiz_best (learner_id, lesson_id, first_at, last_at, best, passed, attempts)
  SELECT qa.learner_id, qa.lesson_id, min(qa.submitted_at), max(qa.submitted_at), max(qa.score), bool_or(qa.passed), count(*)
    FROM quiz_attempts qa WHERE ${where} GROUP BY qa.learner_id, qa.lesson_id`;
/** The calendar month (UTC) of a learner–quiz pair's last attempt, as the quiz totals and months count it. */
const lastMonth = `(extract(year FROM q.last_at AT TIME ZONE 'UTC') * 12 + extract(month FROM q.last_at AT TIME ZONE 'UTC') - 1)::int`;
/** Running totals of each learner's quizzes by the month of their last attempt (see ReportQuizTotals). */
const quizTotalsRows = (where: string) => `INSERT INTO report_quiz_totals (learner_id, first_month, taken, best_sum, passed)
  ${runningTotals(
    `SELECT q.learner_id, ${lastMonth} AS n, count(*) AS taken, sum(q.best) AS best_sum, count(*) FILTER (WHERE q.passed) AS passed
       FROM report_quiz_best q WHERE ${where} GROUP BY 1, 2`,
    ['taken', 'best_sum', 'passed'],
  )}`;
/** The learner–quiz pairs `where` selects, added to or taken away from their quiz's months (see adjust). */
const quizMonthRows = (sign: 1 | -1, where: string) =>
  adjust('report_quiz_months', ['lesson_id', 'month'], ['taken', 'attempts', 'best_sum', 'passed'], (k) =>
    `SELECT q.lesson_id, ${lastMonth}, ${k} * count(*), ${k} * sum(q.attempts), ${k} * sum(q.best), ${k} * count(*) FILTER (WHERE q.passed)
       FROM report_quiz_best q WHERE ${where} GROUP BY 1, 2`,
  )(sign);
const dataRows = (where: string) => `INSERT INTO report_data_months (learner_id, month, bytes, first_day, last_day)
  SELECT d.learner_id, date_trunc('month', d.day)::date, sum(d.bytes), min(d.day), max(d.day) FROM data_usage d WHERE ${where} GROUP BY d.learner_id, date_trunc('month', d.day)`;
/** Allowances not cancelled, per learner, programme, month of period start, unit and currency ('' for none). */
const issueRows = (where: string) => `INSERT INTO report_issue_months (learner_id, programme_id, month, unit, currency, amount, first_day, last_day)
  SELECT i.learner_id, s.programme_id, date_trunc('month', i.period_start)::date, i.unit, coalesce(i.currency, ''), sum(i.amount), min(i.period_start), max(i.period_start)
    FROM allowance_issues i JOIN allowance_schemes s ON s.id = i.scheme_id
   WHERE i.status <> 'cancelled' AND ${where}
   GROUP BY i.learner_id, s.programme_id, date_trunc('month', i.period_start), i.unit, coalesce(i.currency, '')`;
/** Running totals of each learner's megabytes per programme by the month of their period start (see ReportIssueTotals). */
const issueTotalsRows = (where: string) => `INSERT INTO report_issue_totals (learner_id, programme_id, first_month, megabytes)
  ${runningTotals(
    `SELECT r.learner_id, r.programme_id, (extract(year FROM r.month) * 12 + extract(month FROM r.month) - 1)::int AS n,
            coalesce(sum(r.amount) FILTER (WHERE r.unit = 'megabytes'), 0) AS mb
       FROM report_issue_months r WHERE ${where} GROUP BY 1, 2, 3`,
    ['mb'],
    ['learner_id', 'programme_id'],
  )}`;
/** The learner months `where` selects, added to or taken away from their programme's months (see adjust). */
const issueMonthTotalRows = (sign: 1 | -1, where: string) =>
  adjust('report_issue_month_totals', ['programme_id', 'month', 'unit', 'currency'], ['learners', 'amount'], (k) =>
    `SELECT r.programme_id, r.month, r.unit, r.currency, ${k} * count(*), ${k} * sum(r.amount) FROM report_issue_months r WHERE ${where} GROUP BY 1, 2, 3, 4`,
  )(sign);
/** Each submission as the turn-in report counts it (see ReportSubmissionFact). */
const submissionRows = (where: string) => `INSERT INTO report_submission_facts (submission_id, assignment_id, learner_id, turned_in, graded, turnaround)
  SELECT s.id, s.assignment_id, s.learner_id, s.submitted_version > 0, g.id IS NOT NULL, extract(epoch FROM g.graded_at - sv.submitted_at)
    FROM submissions s LEFT JOIN grades g ON g.submission_id = s.id LEFT JOIN submission_versions sv ON sv.submission_id = s.id AND sv.number = g.version_number
   WHERE ${where}`;

export interface RefreshOutcome {
  /** Everything was counted again. */
  full: boolean;
  /** Learners whose progress (lessons or course completions) or study time was recounted. */
  learners: number;
  /** Another process was refreshing: nothing done. */
  skipped: boolean;
}

export async function refreshRollups(em: EntityManager, opts: { wait?: boolean } = {}): Promise<RefreshOutcome> {
  return em.transactional(async (tx) => {
    const run = (sql: string, params: unknown[] = []) => tx.execute(sql, params);
    if (opts.wait) await run(`SELECT pg_advisory_xact_lock(${LOCK})`);
    else {
      const [got] = (await run(`SELECT pg_try_advisory_xact_lock(${LOCK}) AS ok`)) as { ok: boolean }[];
      if (!got!.ok) return { full: false, learners: 0, skipped: true };
    }
    const [marks] = (await run(
      `SELECT coalesce((SELECT max(id) FROM lesson_progress), 0) AS progress_id, coalesce((SELECT max(id) FROM study_time), 0) AS study_id,
              coalesce((SELECT max(id) FROM course_completions), 0) AS completion_id, coalesce((SELECT max(id) FROM quiz_attempts), 0) AS quiz_id,
              coalesce((SELECT max(id) FROM allowance_ledger), 0) AS ledger_id, coalesce((SELECT max(id) FROM grade_changes), 0) AS grade_change_id,
              md5((SELECT coalesce(string_agg(id || ':' || coalesce(unit_id, 0) || ':' || retired, ',' ORDER BY id), '') FROM lessons)
                || '|' || (SELECT coalesce(string_agg(id || ':' || subject, ',' ORDER BY id), '') FROM courses)) AS fingerprint`,
    )) as { progress_id: number; study_id: number; completion_id: number; quiz_id: number; ledger_id: string; grade_change_id: number; fingerprint: string }[];
    const [state] = (await run(`SELECT last_progress_id, last_study_id, last_completion_id, last_quiz_attempt_id, last_ledger_id, last_grade_change_id, refreshed_at, lessons_fingerprint FROM report_rollup_state WHERE id = 1`)) as {
      last_progress_id: number;
      last_study_id: number;
      last_completion_id: number;
      last_quiz_attempt_id: number;
      last_ledger_id: string;
      last_grade_change_id: number;
      refreshed_at: Date;
      lessons_fingerprint: string;
    }[];
    let outcome: RefreshOutcome;
    if (!state || state.lessons_fingerprint !== marks!.fingerprint) {
      await run(`TRUNCATE ${ROLLUP_TABLES}`);
      await run(unitRows('true'));
      await run(courseRows('true'));
      await run(learnerRows('true'));
      await run(studyRows('true'));
      await run(totalsRows('true'));
      await run(dataRows('true'));
      await run(quizRows('true'));
      await run(quizTotalsRows('true'));
      await run(quizMonthRows(1, 'true'));
      await run(issueRows('true'));
      await run(issueTotalsRows('true'));
      await run(issueMonthTotalRows(1, 'true'));
      await run(submissionRows('true'));
      // Planner statistics for what was just counted: until autovacuum gets to them, a new rollup has
      // none, and report statements were planned for a few rows where there are hundreds of thousands.
      await run(`ANALYZE ${ROLLUP_TABLES}`);
      outcome = { full: true, learners: 0, skipped: false };
    } else {
      const since = state.refreshed_at;
      // Progress: new records, and completions since the last refresh → recount those learners' units and courses.
      await run(
        `CREATE TEMP TABLE report_dirty_progress ON COMMIT DROP AS
           SELECT DISTINCT learner_id FROM lesson_progress WHERE id > ? OR completed_at >= ?::timestamptz - ${MARGIN}`,
        [state.last_progress_id, since],
      );
      await run('DELETE FROM report_unit_progress WHERE learner_id IN (SELECT learner_id FROM report_dirty_progress)');
      await run('DELETE FROM report_course_progress WHERE learner_id IN (SELECT learner_id FROM report_dirty_progress)');
      await run(unitRows('lp.learner_id IN (SELECT learner_id FROM report_dirty_progress)'));
      await run(courseRows('lp.learner_id IN (SELECT learner_id FROM report_dirty_progress)'));
      // The one-row-per-learner rollup follows those learners, and those with a course completed since.
      await run(
        `CREATE TEMP TABLE report_dirty_learners ON COMMIT DROP AS
           SELECT learner_id FROM report_dirty_progress
           UNION SELECT learner_id FROM course_completions WHERE id > ? OR completed_at >= ?::timestamptz - ${MARGIN}`,
        [state.last_completion_id, since],
      );
      await run('DELETE FROM report_learner_progress WHERE learner_id IN (SELECT learner_id FROM report_dirty_learners)');
      await run(learnerRows('learner_id IN (SELECT learner_id FROM report_dirty_learners)'));
      // Study time grows in place on today's row, so a learner who studied since the last refresh has
      // their months from then recounted; new rows (any day) have all their learner's months recounted.
      await run(
        `CREATE TEMP TABLE report_dirty_study ON COMMIT DROP AS
           SELECT learner_id, min(from_month) AS from_month FROM (
             SELECT learner_id, date '1900-01-01' AS from_month FROM study_time WHERE id > ?
             UNION ALL
             SELECT learner_id, date_trunc('month', (?::timestamptz - ${MARGIN})::date - 1)::date FROM study_time WHERE day >= (?::timestamptz - ${MARGIN})::date - 1
           ) d GROUP BY learner_id`,
        [state.last_study_id, since, since],
      );
      await run('DELETE FROM report_study_months m USING report_dirty_study d WHERE m.learner_id = d.learner_id AND m.month >= d.from_month');
      await run(studyRows('EXISTS (SELECT 1 FROM report_dirty_study d WHERE d.learner_id = s.learner_id AND s.day >= d.from_month)'));
      await run('DELETE FROM report_study_totals WHERE learner_id IN (SELECT learner_id FROM report_dirty_study)');
      await run(totalsRows('m.learner_id IN (SELECT learner_id FROM report_dirty_study)'));
      // Quiz attempts are only ever added: the learner–quiz pairs with a new one are counted again.
      await run(
        `CREATE TEMP TABLE report_dirty_quizzes ON COMMIT DROP AS
           SELECT DISTINCT learner_id, lesson_id FROM quiz_attempts WHERE id > ? OR submitted_at >= ?::timestamptz - ${MARGIN}`,
        [state.last_quiz_attempt_id, since],
      );
      const dirtyPair = '(q.learner_id, q.lesson_id) IN (SELECT learner_id, lesson_id FROM report_dirty_quizzes)';
      await run(quizMonthRows(-1, dirtyPair));
      await run('DELETE FROM report_quiz_best b USING report_dirty_quizzes d WHERE b.learner_id = d.learner_id AND b.lesson_id = d.lesson_id');
      await run(quizRows('(qa.learner_id, qa.lesson_id) IN (SELECT learner_id, lesson_id FROM report_dirty_quizzes)'));
      await run(quizMonthRows(1, dirtyPair));
      await run('DELETE FROM report_quiz_months WHERE taken = 0');
      await run('DELETE FROM report_quiz_totals WHERE learner_id IN (SELECT learner_id FROM report_dirty_quizzes)');
      await run(quizTotalsRows('q.learner_id IN (SELECT learner_id FROM report_dirty_quizzes)'));
      // An allowance changes only together with a new ledger row (issued, sent, confirmed, cancelled):
      // the learners with one since the last refresh have all their allowances counted again.
      await run(
        `CREATE TEMP TABLE report_dirty_issues ON COMMIT DROP AS
           SELECT DISTINCT learner_id FROM allowance_ledger WHERE id > ? OR at >= ?::timestamptz - ${MARGIN}`,
        [state.last_ledger_id, since],
      );
      const dirtyIssues = 'r.learner_id IN (SELECT learner_id FROM report_dirty_issues)';
      await run(issueMonthTotalRows(-1, dirtyIssues));
      await run('DELETE FROM report_issue_months WHERE learner_id IN (SELECT learner_id FROM report_dirty_issues)');
      await run(issueRows('i.learner_id IN (SELECT learner_id FROM report_dirty_issues)'));
      await run(issueMonthTotalRows(1, dirtyIssues));
      await run('DELETE FROM report_issue_month_totals WHERE learners = 0');
      await run('DELETE FROM report_issue_totals WHERE learner_id IN (SELECT learner_id FROM report_dirty_issues)');
      await run(issueTotalsRows(dirtyIssues));
      // A hand-in changes the submission (its updated_at); a grade changes only together with a grade
      // change row. Those submissions are counted again; those of a deleted assignment are dropped.
      await run(
        `CREATE TEMP TABLE report_dirty_submissions ON COMMIT DROP AS
           SELECT id AS submission_id FROM submissions WHERE updated_at >= ?::timestamptz - ${MARGIN}
           UNION SELECT submission_id FROM grade_changes WHERE id > ? OR changed_at >= ?::timestamptz - ${MARGIN}`,
        [since, state.last_grade_change_id, since],
      );
      await run('DELETE FROM report_submission_facts WHERE submission_id IN (SELECT submission_id FROM report_dirty_submissions) OR assignment_id NOT IN (SELECT id FROM assignments)');
      await run(submissionRows('s.id IN (SELECT submission_id FROM report_dirty_submissions)'));
      // Data use is added to the learner's row of the day as it is metered, so the months from the
      // one before the last refresh on are counted again. Rows have no id to tell a late write to an
      // older day (a restore, a correction): the sums before that month are compared, and all
      // months are counted again when they differ.
      const fromMonth = `date_trunc('month', (?::timestamptz - ${MARGIN})::date - 1)::date`;
      await run(`DELETE FROM report_data_months WHERE month >= ${fromMonth}`, [since]);
      await run(dataRows(`d.day >= ${fromMonth}`), [since]);
      const [older] = (await run(
        `SELECT (SELECT coalesce(sum(bytes), 0) FROM data_usage WHERE day < ${fromMonth}) <> (SELECT coalesce(sum(bytes), 0) FROM report_data_months WHERE month < ${fromMonth}) AS differ`,
        [since, since],
      )) as { differ: boolean }[];
      if (older!.differ) {
        await run(`DELETE FROM report_data_months WHERE month < ${fromMonth}`, [since]);
        await run(dataRows(`d.day < ${fromMonth}`), [since]);
      }
      const [n] = (await run('SELECT (SELECT count(*) FROM report_dirty_learners) + (SELECT count(*) FROM report_dirty_study) AS n')) as { n: string }[];
      outcome = { full: false, learners: Number(n!.n), skipped: false };
    }
    await run(
      `INSERT INTO report_rollup_state (id, last_progress_id, last_study_id, last_completion_id, last_quiz_attempt_id, last_ledger_id, last_grade_change_id, refreshed_at, lessons_fingerprint)
       VALUES (1, ?, ?, ?, ?, ?, ?, now(), ?)
       ON CONFLICT (id) DO UPDATE SET last_progress_id = excluded.last_progress_id, last_study_id = excluded.last_study_id,
         last_completion_id = excluded.last_completion_id, last_quiz_attempt_id = excluded.last_quiz_attempt_id, last_ledger_id = excluded.last_ledger_id,
         last_grade_change_id = excluded.last_grade_change_id, refreshed_at = excluded.refreshed_at, lessons_fingerprint = excluded.lessons_fingerprint`,
      [marks!.progress_id, marks!.study_id, marks!.completion_id, marks!.quiz_id, marks!.ledger_id, marks!.grade_change_id, marks!.fingerprint],
    );
    return outcome;
  });
}

/** When the rollups were last refreshed; null before the first refresh. */
export async function rollupsRefreshedAt(em: EntityManager): Promise<Date | null> {
  const [row] = (await em.execute('SELECT refreshed_at FROM report_rollup_state WHERE id = 1')) as { refreshed_at: Date }[];
  return row ? new Date(row.refreshed_at) : null;
}

/** Refreshes now and then every `minutes`, in the background; stop() waits for a refresh under way. */
export function startRollupRefresher(orm: MikroORM, logger: Logger, minutes: number): { stop: () => Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const started = Date.now();
    running = refreshRollups(orm.em.fork()).then(
      (o) => {
        if (!o.skipped) logger.info({ full: o.full, learners: o.learners, ms: Date.now() - started }, 'report rollups refreshed');
      },
      (err) => logger.warn({ err }, 'report rollups could not be refreshed; the next try is in a few minutes'),
    );
  };
  const first = setTimeout(tick, 2000);
  first.unref();
  const timer = setInterval(tick, minutes * 60_000);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
