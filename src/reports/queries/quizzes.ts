/** Quiz scores: each learner's best score per quiz in the range. Read-only; see scope.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReportViewer } from '../reports.policy.ts';
import type { ReportFilters } from '../reports.schemas.ts';
import { learnerGroup, perGroupAndTotal, population, type Range } from './scope.ts';
import { raw, rows, sql, type Sql } from './sql.ts';

/**
 * Each learner's best score per quiz in the range, from the rollup of each learner's attempts at
 * each quiz (rollups.ts): a pair whose attempts all fall in the range is read as counted; one whose
 * attempts the range cuts through (a handful) has the attempts inside the range read again. Both
 * kinds come from one pass over the rollup. The lessons are joined only to narrow to one course.
 */
function best(f: ReportFilters, range: Range, learners: Sql): Sql {
  const course = f.courseId ? sql`AND q.lesson_id IN (SELECT l.id FROM lessons l WHERE l.course_id = ${f.courseId})` : raw('');
  const whole = sql`q.first_at >= ${range.start} AND q.last_at < ${range.end}`;
  const inRange = (select: string) =>
    sql`(SELECT ${raw(select)} FROM quiz_attempts qa WHERE qa.learner_id = q.learner_id AND qa.lesson_id = q.lesson_id AND qa.submitted_at >= ${range.start} AND qa.submitted_at < ${range.end})`;
  return sql`SELECT * FROM (
      SELECT q.learner_id, q.lesson_id,
             CASE WHEN ${whole} THEN q.best ELSE ${inRange('max(qa.score)')} END AS best,
             CASE WHEN ${whole} THEN q.passed ELSE ${inRange('bool_or(qa.passed)')} END AS passed,
             CASE WHEN ${whole} THEN q.attempts ELSE ${inRange('count(*)::int')} END AS attempts
        FROM report_quiz_best q
       WHERE q.last_at >= ${range.start} AND q.first_at < ${range.end} ${course} AND q.learner_id IN (${learners})
    ) b WHERE b.attempts > 0`;
}

/** A month as the quiz rollups count it, by its UTC calendar: year × 12 + month − 1. */
const monthOf = (at: Date) => at.getUTCFullYear() * 12 + at.getUTCMonth();
const monthStart = (month: number) => new Date(Date.UTC(Math.floor(month / 12), month % 12, 1));

/** The month that starts at the month boundary nearest to `at` (the range's edges are the viewer's midnights, not UTC's). */
export function nearestMonth(at: Date): number {
  const month = monthOf(at);
  return at.getTime() - monthStart(month).getTime() <= monthStart(month + 1).getTime() - at.getTime() ? month : month + 1;
}

/**
 * The quiz figures of the months [from, to) the rollups count whole (report_quiz_totals per
 * learner, report_quiz_months per quiz: the pairs whose last attempt falls in them), made into the
 * range's by `delta`: per learner–quiz pair whose figures in the range differ from what those
 * months count for it, the difference. Such a pair lies between an edge of the range and the
 * month boundary nearest to it, or has attempts on both sides of an edge; the indexes on the
 * quiz rollup find both kinds, a few hundred pairs for a range of whole months. A pair cut by an
 * edge has its attempts inside the range read again.
 */
function rollupMonths(range: Range): { from: number; to: number; delta: Sql } {
  const from = nearestMonth(range.start);
  const to = nearestMonth(range.end);
  const [b, e] = [monthStart(from), monthStart(to)];
  const lo = (x: Date, y: Date) => (x < y ? x : y);
  const hi = (x: Date, y: Date) => (x < y ? y : x);
  const spans = (at: Date) => sql`SELECT q.* FROM report_quiz_best q WHERE tstzrange(q.first_at, q.last_at, '[]') @> ${at}::timestamptz AND q.first_at < ${at}`;
  const between = (x: Date, y: Date) => sql`SELECT q.* FROM report_quiz_best q WHERE q.last_at >= ${lo(x, y)} AND q.last_at < ${hi(x, y)}`;
  const delta = sql`SELECT p.learner_id, p.lesson_id,
         (p.whole OR cut.attempts > 0)::int - p.counted::int AS taken,
         CASE WHEN p.whole THEN p.attempts ELSE cut.attempts END - CASE WHEN p.counted THEN p.attempts ELSE 0 END AS attempts,
         coalesce(CASE WHEN p.whole THEN p.best ELSE cut.best END, 0) - CASE WHEN p.counted THEN p.best ELSE 0 END AS best_sum,
         coalesce(CASE WHEN p.whole THEN p.passed ELSE cut.passed END, false)::int - (p.counted AND p.passed)::int AS passed
    FROM (
      SELECT q.*, q.first_at >= ${range.start} AND q.last_at < ${range.end} AS whole, q.last_at >= ${range.start} AND q.first_at < ${range.end} AS touches,
             q.last_at >= ${b} AND q.last_at < ${e} AS counted
        FROM (${spans(range.start)} UNION ${spans(range.end)} UNION ${between(range.start, b)} UNION ${between(range.end, e)}) q
    ) p
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS attempts, max(qa.score) AS best, bool_or(qa.passed) AS passed FROM quiz_attempts qa
       WHERE NOT p.whole AND p.touches AND qa.learner_id = p.learner_id AND qa.lesson_id = p.lesson_id AND qa.submitted_at >= ${range.start} AND qa.submitted_at < ${range.end}
    ) cut`;
  return { from, to, delta };
}

/**
 * Without a course filter: per learner, two lookups in their running totals and their pairs'
 * `delta`; per quiz, the quiz's months and every pair's delta, less the learners out of scope —
 * or, when those outnumber the learners in scope, the pairs of the learners in scope added up
 * instead. Either way no statement reads every learner–quiz pair of the range (half a million in a
 * large programme). Yields CTEs `per_quiz` (lesson_id, learners, attempts, average, passed) and
 * `pl` (learner_id, taken, best_sum, passed) after `pop`.
 */
function fromTotals(f: ReportFilters, range: Range): Sql {
  const { from, to, delta } = rollupMonths(range);
  // Running total through the month before `month`: the array's element (month − first month); 0
  // before the learner's first month, the last total after their last.
  const through = (col: string, month: number) => sql`coalesce(t.${raw(col)}[least(${month}::int - t.first_month, cardinality(t.${raw(col)}))], 0)`;
  const months = (col: string) => sql`${through(col, to)} - ${through(col, from)} + coalesce(d.${raw(col)}, 0)`;
  const subtract = raw('(SELECT yes FROM subtract)');
  return sql`delta AS MATERIALIZED (${delta}),
    pl AS (
      SELECT pop.learner_id, ${months('taken')} AS taken, ${months('best_sum')} AS best_sum, ${months('passed')} AS passed
        FROM pop LEFT JOIN report_quiz_totals t ON t.learner_id = pop.learner_id
        LEFT JOIN (SELECT learner_id, sum(taken) AS taken, sum(best_sum) AS best_sum, sum(passed) AS passed FROM delta GROUP BY learner_id) d ON d.learner_id = pop.learner_id
    ),
    outside AS MATERIALIZED (SELECT t.learner_id FROM report_quiz_totals t WHERE NOT EXISTS (SELECT 1 FROM pop WHERE pop.learner_id = t.learner_id)),
    subtract AS MATERIALIZED (SELECT (SELECT count(*) FROM outside) < (SELECT count(*) FROM pop) AS yes),
    parts AS (
      SELECT lesson_id, taken, attempts, best_sum, passed FROM report_quiz_months WHERE month >= ${from} AND month < ${to} AND ${subtract}
      UNION ALL SELECT lesson_id, taken, attempts, best_sum, passed FROM delta WHERE ${subtract}
      UNION ALL SELECT lesson_id, -1, -attempts, -best, -passed::int FROM (${best(f, range, raw('SELECT learner_id FROM outside'))}) o WHERE ${subtract}
      UNION ALL SELECT lesson_id, 1, attempts, best, passed::int FROM (${best(f, range, raw('SELECT learner_id FROM pop'))}) i WHERE NOT ${subtract}
    ),
    per_quiz AS (
      SELECT lesson_id, sum(taken)::int AS learners, sum(attempts)::int AS attempts, sum(best_sum)::numeric / sum(taken) AS average, sum(passed)::int AS passed
        FROM parts GROUP BY lesson_id HAVING sum(taken) > 0
    )`;
}

/** With a course filter (a fifth of the quizzes or fewer): the pairs of that course's quizzes, read once. Same CTEs as fromTotals. */
function fromPairs(f: ReportFilters, range: Range): Sql {
  return sql`b AS MATERIALIZED (${best(f, range, raw('SELECT learner_id FROM pop'))}),
    per_quiz AS (
      SELECT b.lesson_id, count(*)::int AS learners, sum(b.attempts)::int AS attempts, avg(b.best) AS average, count(*) FILTER (WHERE b.passed)::int AS passed
        FROM b GROUP BY b.lesson_id
    ),
    pl AS (SELECT b.learner_id, count(*)::int AS taken, sum(b.best)::int AS best_sum, (count(*) FILTER (WHERE b.passed))::int AS passed FROM b GROUP BY b.learner_id)`;
}

export interface QuizRow {
  lessonId: number;
  courseTitle: string;
  title: string;
  learners: number;
  attempts: number;
  averageBest: number;
  passed: number;
}

export interface QuizGroup {
  group: string | null;
  learners: number;
  /** Learner–quiz pairs. */
  taken: number;
  averageBest: number | null;
  passed: number;
}

export interface QuizFigures {
  quizzes: QuizRow[];
  groups: QuizGroup[];
}

/** The per-quiz and per-group tables in one statement. Quizzes are counted by lesson first and only then given their titles. */
export async function quizFigures(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<QuizFigures> {
  const by = learnerGroup(f.by, range, 'pl.learner_id');
  const result = await rows<{ kind: 'quiz' | 'group'; r: Record<string, unknown> }>(
    em,
    sql`WITH pop AS MATERIALIZED (${population(viewer, f, range)}),
        ${f.courseId ? fromPairs(f, range) : fromTotals(f, range)},
        quiz_rows AS (
          SELECT l.id AS "lessonId", c.title AS "courseTitle", l.title, q.learners, q.attempts, q.average, q.passed,
                 row_number() OVER (ORDER BY c.title, l.course_id, l.position) AS ord
            FROM per_quiz q JOIN lessons l ON l.id = q.lesson_id JOIN courses c ON c.id = l.course_id
        ),
        x AS (SELECT ${by.group} AS g, pl.* FROM pl ${by.join} WHERE pl.taken > 0),
        group_rows AS (${perGroupAndTotal(
          f.by,
          raw(`count(*)::int AS learners, coalesce(sum(taken), 0)::int AS taken,
               sum(best_sum)::numeric / nullif(sum(taken), 0) AS average, coalesce(sum(passed), 0)::int AS passed`),
          raw('x'),
        )})
        SELECT 'quiz' AS kind, to_jsonb(quiz_rows) AS r FROM quiz_rows
        UNION ALL SELECT 'group', to_jsonb(group_rows) FROM group_rows`,
  );
  const of = <T>(kind: string) => result.filter((row) => row.kind === kind).map((row) => row.r as T);
  const quizzes = of<{ lessonId: number; courseTitle: string; title: string; learners: number; attempts: number; average: number | string; passed: number; ord: number }>('quiz')
    .sort((a, b) => a.ord - b.ord)
    .map((q) => ({ lessonId: q.lessonId, courseTitle: q.courseTitle, title: q.title, learners: q.learners, attempts: q.attempts, averageBest: Number(q.average), passed: q.passed }));
  const groups = of<{ group: string | null; learners: number; taken: number; average: number | string | null; passed: number }>('group').map((g) => ({
    group: g.group,
    learners: g.learners,
    taken: g.taken,
    averageBest: g.average === null ? null : Number(g.average),
    passed: g.passed,
  }));
  return { quizzes, groups };
}
