/** Completion per course, per unit and per group of learners. Read-only; see scope.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReportViewer } from '../reports.policy.ts';
import type { ReportFilters } from '../reports.schemas.ts';
import { groupOf, scopeCohorts, type Range } from './scope.ts';
import { raw, rows, sql, type Sql } from './sql.ts';

/**
 * Learner–course pairs the report counts: a learner enrolled during the range in a cohort in scope
 * that is offered the course (the course filter narrows it to one course).
 */
function offered(viewer: ReportViewer, f: ReportFilters, range: Range): Sql {
  const course = f.courseId ? sql`AND cc.course_id = ${f.courseId}` : raw('');
  return sql`SELECT DISTINCT e.learner_id, cc.course_id FROM enrolments e JOIN cohort_courses cc ON cc.cohort_id = e.cohort_id
    WHERE e.cohort_id IN (${scopeCohorts(viewer, f)}) AND e.enrolled_at < ${range.end} AND (e.withdrawn_at IS NULL OR e.withdrawn_at >= ${range.start}) ${course}`;
}

export interface CourseCompletionRow {
  courseId: number;
  title: string;
  learners: number;
  started: number;
  completed: number;
}

/** Per course: learners offered it, learners who opened a lesson (rollup), learners who completed it by the end of the range. */
export async function completionByCourse(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<CourseCompletionRow[]> {
  const result = await rows<{ course_id: number; title: string; learners: number; started: number; completed: number }>(
    em,
    sql`WITH o AS (${offered(viewer, f, range)})
        SELECT o.course_id, c.title, count(*)::int AS learners,
               count(rp.learner_id)::int AS started,
               count(cp.learner_id)::int AS completed
          FROM o JOIN courses c ON c.id = o.course_id
          LEFT JOIN report_course_progress rp ON rp.learner_id = o.learner_id AND rp.course_id = o.course_id AND rp.started_at < ${range.end}
          LEFT JOIN course_completions cp ON cp.learner_id = o.learner_id AND cp.course_id = o.course_id AND cp.completed_at < ${range.end}
         GROUP BY o.course_id, c.title ORDER BY c.title, o.course_id`,
  );
  return result.map((r) => ({ courseId: r.course_id, title: r.title, learners: r.learners, started: r.started, completed: r.completed }));
}

export interface UnitCompletionRow {
  unitId: number;
  courseTitle: string;
  title: string;
  lessons: number;
  learners: number;
  completed: number;
}

/**
 * Per unit: learners offered its course, and those who completed every (current) lesson of it by
 * the end of the range — all lessons done, the last of them before the end (read from the rollup).
 */
export async function completionByUnit(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<UnitCompletionRow[]> {
  const result = await rows<{ unit_id: number; course_title: string; title: string; lessons: number; learners: number; completed: number }>(
    em,
    sql`WITH o AS (${offered(viewer, f, range)}),
        per_course AS (SELECT course_id, count(*)::int AS learners FROM o GROUP BY course_id),
        units AS (
          SELECT u.id, u.course_id, u.title, u.position, count(l.id)::int AS lessons FROM course_units u JOIN lessons l ON l.unit_id = u.id AND NOT l.retired
           WHERE u.course_id IN (SELECT course_id FROM per_course) GROUP BY u.id
        ),
        done AS (
          SELECT up.unit_id, count(*)::int AS n FROM report_unit_progress up JOIN units ON units.id = up.unit_id
            JOIN o ON o.learner_id = up.learner_id AND o.course_id = up.course_id
           WHERE up.lessons_done >= units.lessons AND up.last_completed_at < ${range.end}
           GROUP BY up.unit_id
        )
        SELECT units.id AS unit_id, c.title AS course_title, units.title, units.lessons, pc.learners, coalesce(done.n, 0)::int AS completed
          FROM units JOIN courses c ON c.id = units.course_id JOIN per_course pc ON pc.course_id = units.course_id LEFT JOIN done ON done.unit_id = units.id
         ORDER BY c.title, units.course_id, units.position`,
  );
  return result.map((r) => ({ unitId: r.unit_id, courseTitle: r.course_title, title: r.title, lessons: r.lessons, learners: r.learners, completed: r.completed }));
}

export interface CompletionGroup {
  group: string | null;
  learners: number;
  /** Learner–course pairs. */
  offered: number;
  completed: number;
}

export async function completionByGroup(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<CompletionGroup[]> {
  const result = await rows<{ group: string | null; learners: number; offered: number; completed: number }>(
    em,
    sql`WITH o AS (${offered(viewer, f, range)}),
        x AS (
          SELECT ${groupOf(f.by, range)} AS g, o.learner_id, cp.learner_id IS NOT NULL AS done
            FROM o JOIN users u ON u.id = o.learner_id
            LEFT JOIN course_completions cp ON cp.learner_id = o.learner_id AND cp.course_id = o.course_id AND cp.completed_at < ${range.end}
        )
        SELECT g AS "group", count(DISTINCT learner_id)::int AS learners, count(*)::int AS offered, count(*) FILTER (WHERE done)::int AS completed
          FROM x GROUP BY GROUPING SETS ((g), ())`,
  );
  return result;
}
