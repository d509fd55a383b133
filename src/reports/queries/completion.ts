/** Completion per course, per unit and per group of learners. Read-only; see scope.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReportViewer } from '../reports.policy.ts';
import type { ReportFilters } from '../reports.schemas.ts';
import { learnerGroup, perGroupAndTotal, scopeCohorts, type Range } from './scope.ts';
import { raw, rows, sql } from './sql.ts';

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
 * The three completion tables in one statement, without working out every learner–course pair
 * (half a million in a large programme): learners are counted together when they share the same
 * cohorts in scope, the same breakdown group and the same progress (courses opened, courses
 * completed, units completed, read from report_learner_progress), a few dozen kinds at most, and
 * each kind is then spread over its courses and units:
 * - per course: learners offered it (by a cohort of theirs in scope), who opened a lesson of it, who
 *   completed it, all by the end of the range;
 * - per unit: learners offered its course, and those who completed every current lesson of it by
 *   the end of the range;
 * - per breakdown group: learners, learner–course pairs offered, pairs completed.
 * A learner whose progress goes on past the end of the range has theirs read as it stood then, from
 * the unit and course rollups (rollups.ts).
 */
export async function completionFigures(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range, opts: { perUnit?: boolean } = {}): Promise<CompletionFigures> {
  // Without the unit table (the donor page) learners are not told apart by the units they completed:
  // there are far fewer kinds of learner to count, most of all with a breakdown of many groups.
  const perUnit = opts.perUnit ?? true;
  const course = f.courseId ? sql`AND cc.course_id = ${f.courseId}` : raw('');
  const by = learnerGroup(f.by, range, 'l.learner_id');
  const result = await rows<{ kind: 'course' | 'unit' | 'group'; r: Record<string, unknown> }>(
    em,
    sql`WITH l AS MATERIALIZED (
          SELECT e.learner_id, array_agg(e.cohort_id ORDER BY e.cohort_id) AS cohorts FROM enrolments e
           WHERE e.cohort_id IN (${scopeCohorts(viewer, f)}) AND e.enrolled_at < ${range.end} AND (e.withdrawn_at IS NULL OR e.withdrawn_at >= ${range.start})
           GROUP BY e.learner_id
        ),
        units AS MATERIALIZED (
          SELECT u.id, u.course_id, u.title, u.position, count(l.id)::int AS lessons FROM course_units u JOIN lessons l ON l.unit_id = u.id AND NOT l.retired GROUP BY u.id
        ),
        progress AS (
          SELECT p.learner_id, p.started_courses, p.completed_courses, p.completed_units FROM report_learner_progress p WHERE p.last_at < ${range.end}
          UNION ALL
          SELECT p.learner_id,
                 ARRAY(SELECT rp.course_id FROM report_course_progress rp WHERE rp.learner_id = p.learner_id AND rp.started_at < ${range.end} ORDER BY 1),
                 ARRAY(SELECT cp.course_id FROM course_completions cp WHERE cp.learner_id = p.learner_id AND cp.completed_at < ${range.end} ORDER BY 1),
                 ARRAY(SELECT up.unit_id FROM report_unit_progress up JOIN units ON units.id = up.unit_id
                        WHERE up.learner_id = p.learner_id AND up.lessons_done >= units.lessons AND up.last_completed_at < ${range.end} ORDER BY 1)
            FROM report_learner_progress p WHERE p.last_at >= ${range.end}
        ),
        kinds AS MATERIALIZED (
          SELECT l.cohorts, ${by.group} AS g, coalesce(p.started_courses, '{}') AS started, coalesce(p.completed_courses, '{}') AS completed,
                 ${raw(perUnit ? `coalesce(p.completed_units, '{}')` : `'{}'::int[]`)} AS units, count(*) AS n
            FROM l ${by.join} LEFT JOIN progress p ON p.learner_id = l.learner_id
           GROUP BY 1, 2, 3, 4, 5
        ),
        offers AS MATERIALIZED (
          SELECT s.cohorts, ARRAY(SELECT DISTINCT cc.course_id FROM cohort_courses cc WHERE cc.cohort_id = ANY (s.cohorts) ${course}) AS courses
            FROM (SELECT DISTINCT cohorts FROM kinds) s
        ),
        k AS MATERIALIZED (SELECT kinds.*, offers.courses FROM kinds JOIN offers ON offers.cohorts = kinds.cohorts),
        per_course AS (
          SELECT c AS course_id, sum(k.n)::int AS learners, coalesce(sum(k.n) FILTER (WHERE c = ANY (k.started)), 0)::int AS started,
                 coalesce(sum(k.n) FILTER (WHERE c = ANY (k.completed)), 0)::int AS completed
            FROM k, unnest(k.courses) AS c GROUP BY c
        ),
        course_rows AS (SELECT pc.course_id AS "courseId", c.title, pc.learners, pc.started, pc.completed FROM per_course pc JOIN courses c ON c.id = pc.course_id),
        done AS (
          SELECT u AS unit_id, sum(k.n)::int AS n FROM k, unnest(k.units) AS u JOIN units ON units.id = u WHERE units.course_id = ANY (k.courses) GROUP BY u
        ),
        unit_rows AS (
          SELECT units.id AS "unitId", c.title AS "courseTitle", units.title, units.lessons, pc.learners, coalesce(done.n, 0)::int AS completed, units.course_id, units.position
            FROM units JOIN courses c ON c.id = units.course_id JOIN per_course pc ON pc.course_id = units.course_id LEFT JOIN done ON done.unit_id = units.id
        ),
        group_rows AS (${perGroupAndTotal(
          f.by,
          raw(`sum(n)::int AS learners, coalesce(sum(n * cardinality(courses)), 0)::int AS offered,
               coalesce(sum(n * (SELECT count(*) FROM unnest(completed) AS c WHERE c = ANY (courses))), 0)::int AS completed`),
          raw('k WHERE cardinality(courses) > 0'),
        )})
        SELECT 'course' AS kind, to_jsonb(course_rows) AS r FROM course_rows
        ${raw(perUnit ? `UNION ALL SELECT 'unit', to_jsonb(unit_rows) FROM unit_rows` : '')}
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
