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

export interface UnitCompletionRow {
  unitId: number;
  courseTitle: string;
  title: string;
  lessons: number;
  learners: number;
  completed: number;
}

export interface CompletionGroup {
  group: string | null;
  learners: number;
  /** Learner–course pairs. */
  offered: number;
  completed: number;
}

export interface CompletionFigures {
  courses: CourseCompletionRow[];
  units: UnitCompletionRow[];
  groups: CompletionGroup[];
}

/**
 * The three completion tables in one statement, so the learner–course pairs (half a million in a
 * large programme) are worked out once:
 * - per course: learners offered it, learners who opened a lesson of it, learners who completed it,
 *   all by the end of the range;
 * - per unit: learners offered its course, and those who completed every current lesson of it by
 *   the end of the range (all lessons done, the last of them before the end);
 * - per breakdown group: learners, learner–course pairs, pairs completed — counted from one row
 *   per learner, so learners are counted once without sorting every pair.
 * Starts and units come from the rollups (rollups.ts).
 */
export async function completionFigures(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<CompletionFigures> {
  const result = await rows<{ kind: 'course' | 'unit' | 'group'; r: Record<string, unknown> }>(
    em,
    sql`WITH o AS MATERIALIZED (${offered(viewer, f, range)}),
        oc AS MATERIALIZED (
          SELECT o.learner_id, o.course_id, rp.learner_id IS NOT NULL AS started, cp.learner_id IS NOT NULL AS completed FROM o
            LEFT JOIN report_course_progress rp ON rp.learner_id = o.learner_id AND rp.course_id = o.course_id AND rp.started_at < ${range.end}
            LEFT JOIN course_completions cp ON cp.learner_id = o.learner_id AND cp.course_id = o.course_id AND cp.completed_at < ${range.end}
        ),
        per_course AS (
          SELECT oc.course_id, count(*)::int AS learners, count(*) FILTER (WHERE oc.started)::int AS started, count(*) FILTER (WHERE oc.completed)::int AS completed
            FROM oc GROUP BY oc.course_id
        ),
        course_rows AS (SELECT pc.course_id AS "courseId", c.title, pc.learners, pc.started, pc.completed FROM per_course pc JOIN courses c ON c.id = pc.course_id),
        units AS (
          SELECT u.id, u.course_id, u.title, u.position, count(l.id)::int AS lessons FROM course_units u JOIN lessons l ON l.unit_id = u.id AND NOT l.retired
           WHERE u.course_id IN (SELECT course_id FROM per_course) GROUP BY u.id
        ),
        done AS (
          SELECT up.unit_id, count(*)::int AS n FROM report_unit_progress up JOIN units ON units.id = up.unit_id
            JOIN o ON o.learner_id = up.learner_id AND o.course_id = up.course_id
           WHERE up.lessons_done >= units.lessons AND up.last_completed_at < ${range.end}
           GROUP BY up.unit_id
        ),
        unit_rows AS (
          SELECT units.id AS "unitId", c.title AS "courseTitle", units.title, units.lessons, pc.learners, coalesce(done.n, 0)::int AS completed, units.course_id, units.position
            FROM units JOIN courses c ON c.id = units.course_id JOIN per_course pc ON pc.course_id = units.course_id LEFT JOIN done ON done.unit_id = units.id
        ),
        per_learner AS (SELECT oc.learner_id, count(*) AS offered, count(*) FILTER (WHERE oc.completed) AS completed FROM oc GROUP BY oc.learner_id),
        x AS (SELECT ${groupOf(f.by, range)} AS g, pl.offered, pl.completed FROM per_learner pl JOIN users u ON u.id = pl.learner_id),
        group_rows AS (
          SELECT g AS "group", count(*)::int AS learners, coalesce(sum(offered), 0)::int AS offered, coalesce(sum(completed), 0)::int AS completed
            FROM x GROUP BY GROUPING SETS ((g), ())
        )
        SELECT 'course' AS kind, to_jsonb(course_rows) AS r FROM course_rows
        UNION ALL SELECT 'unit', to_jsonb(unit_rows) FROM unit_rows
        UNION ALL SELECT 'group', to_jsonb(group_rows) FROM group_rows`,
  );
  const of = <T>(kind: string) => result.filter((row) => row.kind === kind).map((row) => row.r as T);
  const units = of<UnitCompletionRow & { course_id: number; position: number }>('unit');
  units.sort((a, b) => a.courseTitle.localeCompare(b.courseTitle) || a.course_id - b.course_id || a.position - b.position);
  return {
    courses: of<CourseCompletionRow>('course').sort((a, b) => a.title.localeCompare(b.title) || a.courseId - b.courseId),
    units: units.map(({ course_id: _c, position: _p, ...u }) => u),
    groups: of<CompletionGroup>('group'),
  };
}
