/** Quiz scores: each learner's best score per quiz in the range. Read-only; see scope.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReportViewer } from '../reports.policy.ts';
import type { ReportFilters } from '../reports.schemas.ts';
import { everyone, learnerGroup, perGroupAndTotal, population, type Range } from './scope.ts';
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

/**
 * The per-quiz and per-group tables in one statement, so the best scores (one row per learner and
 * quiz, half a million in a large programme) are worked out once. Quizzes are counted by lesson
 * first and only then given their titles.
 */
export async function quizFigures(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<QuizFigures> {
  const by = learnerGroup(f.by, range, 'pl.learner_id');
  const result = await rows<{ kind: 'quiz' | 'group'; r: Record<string, unknown> }>(
    em,
    sql`WITH pop AS MATERIALIZED (${population(viewer, f, range)}),
        b AS MATERIALIZED (${best(f, range, raw('SELECT learner_id FROM pop'))}),
        per_quiz AS (
          SELECT b.lesson_id, count(*)::int AS learners, sum(b.attempts)::int AS attempts, avg(b.best) AS average, count(*) FILTER (WHERE b.passed)::int AS passed
            FROM b GROUP BY b.lesson_id
        ),
        quiz_rows AS (
          SELECT l.id AS "lessonId", c.title AS "courseTitle", l.title, q.learners, q.attempts, q.average, q.passed,
                 row_number() OVER (ORDER BY c.title, l.course_id, l.position) AS ord
            FROM per_quiz q JOIN lessons l ON l.id = q.lesson_id JOIN courses c ON c.id = l.course_id
        ),
        per_learner AS (
          SELECT b.learner_id, count(*)::int AS taken, sum(b.best)::int AS best_sum, (count(*) FILTER (WHERE b.passed))::int AS passed FROM b GROUP BY b.learner_id
        ),
        x AS (SELECT ${by.group} AS g, pl.* FROM per_learner pl ${by.join}),
        totals AS MATERIALIZED (
          SELECT (SELECT count(*) FROM (SELECT DISTINCT learner_id FROM b) d)::int AS learners, count(*)::int AS taken,
                 sum(best)::numeric / nullif(count(*), 0) AS average, (count(*) FILTER (WHERE passed))::int AS passed
            FROM b
        ),
        group_rows AS (${
          // Without a breakdown the one group is everyone: its figures are totals, nothing is summed per learner.
          f.by === 'none'
            ? everyone(raw('SELECT * FROM totals'))
            : perGroupAndTotal(
                f.by,
                raw(`count(*)::int AS learners, coalesce(sum(taken), 0)::int AS taken, sum(best_sum)::numeric / sum(taken) AS average, coalesce(sum(passed), 0)::int AS passed`),
                raw('x'),
              )
        })
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
