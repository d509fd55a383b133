/** Quiz scores: each learner's best score per quiz in the range. Read-only; see scope.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReportViewer } from '../reports.policy.ts';
import type { ReportFilters } from '../reports.schemas.ts';
import { groupOf, population, type Range } from './scope.ts';
import { raw, rows, sql, type Sql } from './sql.ts';

function best(viewer: ReportViewer, f: ReportFilters, range: Range): Sql {
  const course = f.courseId ? sql`AND l.course_id = ${f.courseId}` : raw('');
  return sql`SELECT qa.learner_id, qa.lesson_id, max(qa.score) AS best, bool_or(qa.passed) AS passed, count(*) AS attempts
    FROM quiz_attempts qa JOIN lessons l ON l.id = qa.lesson_id
    WHERE qa.submitted_at >= ${range.start} AND qa.submitted_at < ${range.end} ${course}
      AND qa.learner_id IN (${population(viewer, f, range)})
    GROUP BY qa.learner_id, qa.lesson_id`;
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

export async function quizFigures(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<QuizRow[]> {
  const result = await rows<{ id: number; course_title: string; title: string; learners: number; attempts: number; average: string; passed: number }>(
    em,
    sql`WITH b AS (${best(viewer, f, range)})
        SELECT l.id, c.title AS course_title, l.title, count(*)::int AS learners, sum(b.attempts)::int AS attempts,
               avg(b.best) AS average, count(*) FILTER (WHERE b.passed)::int AS passed
          FROM b JOIN lessons l ON l.id = b.lesson_id JOIN courses c ON c.id = l.course_id
         GROUP BY l.id, c.title ORDER BY c.title, l.course_id, l.position`,
  );
  return result.map((r) => ({ lessonId: r.id, courseTitle: r.course_title, title: r.title, learners: r.learners, attempts: r.attempts, averageBest: Number(r.average), passed: r.passed }));
}

export interface QuizGroup {
  group: string | null;
  learners: number;
  /** Learner–quiz pairs. */
  taken: number;
  averageBest: number | null;
  passed: number;
}

export async function quizzesByGroup(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<QuizGroup[]> {
  const result = await rows<{ group: string | null; learners: number; taken: number; average: string | null; passed: number }>(
    em,
    sql`WITH b AS (${best(viewer, f, range)}),
        x AS (SELECT ${groupOf(f.by, range)} AS g, b.* FROM b JOIN users u ON u.id = b.learner_id)
        SELECT g AS "group", count(DISTINCT learner_id)::int AS learners, count(*)::int AS taken, avg(best) AS average,
               count(*) FILTER (WHERE passed)::int AS passed
          FROM x GROUP BY GROUPING SETS ((g), ())`,
  );
  return result.map((r) => ({ group: r.group, learners: r.learners, taken: r.taken, averageBest: r.average === null ? null : Number(r.average), passed: r.passed }));
}
