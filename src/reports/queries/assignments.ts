/** Assignment turn-in and grading turnaround. Read-only; see scope.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReportViewer } from '../reports.policy.ts';
import type { ReportFilters } from '../reports.schemas.ts';
import { learnerGroup, perGroupAndTotal, scopeCohorts, type Range } from './scope.ts';
import { raw, rows, sql, type Sql } from './sql.ts';

/**
 * Learner–assignment pairs that were due: assignments set for a cohort in scope and due in the
 * range, for each learner enrolled in that cohort when it was due; with whether work was handed in
 * and, once graded, the seconds from the graded version's hand-in to its grade, as the rollup of
 * submissions counted them (rollups.ts) — one join instead of three to the submissions, grades
 * and versions of every assignment.
 */
function due(viewer: ReportViewer, f: ReportFilters, range: Range): Sql {
  const course = f.courseId ? sql`AND a.unit_id IN (SELECT cu.id FROM course_units cu WHERE cu.course_id = ${f.courseId})` : raw('');
  return sql`SELECT DISTINCT ON (a.id, e.learner_id) a.id AS assignment_id, e.learner_id,
      coalesce(f.turned_in, false) AS turned_in, coalesce(f.graded, false) AS graded, f.turnaround
    FROM assignments a
    JOIN assignment_cohorts ac ON ac.assignment_id = a.id AND ac.cohort_id IN (${scopeCohorts(viewer, f)})
    JOIN enrolments e ON e.cohort_id = ac.cohort_id AND e.enrolled_at <= a.due_at AND (e.withdrawn_at IS NULL OR e.withdrawn_at > a.due_at)
    LEFT JOIN report_submission_facts f ON f.assignment_id = a.id AND f.learner_id = e.learner_id
    WHERE a.due_at >= ${range.start} AND a.due_at < ${range.end} ${course}
    ORDER BY a.id, e.learner_id`;
}

export interface AssignmentRow {
  assignmentId: number;
  title: string;
  dueAt: Date;
  expected: number;
  turnedIn: number;
  graded: number;
  /** Median seconds from hand-in to grade; null when nothing is graded. */
  medianTurnaround: number | null;
}

export interface AssignmentGroup {
  group: string | null;
  learners: number;
  expected: number;
  turnedIn: number;
  medianTurnaround: number | null;
}

export interface AssignmentFigures {
  assignments: AssignmentRow[];
  groups: AssignmentGroup[];
}

/**
 * The per-assignment and per-group tables in one statement, so the learner–assignment pairs (with
 * their hand-ins, grades and graded versions) are worked out once for both.
 */
export async function assignmentFigures(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range, opts: { perAssignment?: boolean } = {}): Promise<AssignmentFigures> {
  // The per-assignment table is left out where it is not shown (the donor page): it is not worked out then.
  const perAssignment = opts.perAssignment ?? true;
  const by = learnerGroup(f.by, range, 'd.learner_id');
  const result = await rows<{ kind: 'assignment' | 'group'; r: Record<string, unknown> }>(
    em,
    sql`WITH d AS MATERIALIZED (${due(viewer, f, range)}),
        per_assignment AS (
          SELECT d.assignment_id, count(*)::int AS expected, count(*) FILTER (WHERE d.turned_in)::int AS turned_in,
                 count(*) FILTER (WHERE d.graded)::int AS graded, percentile_cont(0.5) WITHIN GROUP (ORDER BY d.turnaround) AS median
            FROM d GROUP BY d.assignment_id
        ),
        assignment_rows AS (
          SELECT a.id, a.title, a.due_at, pa.expected, pa.turned_in, pa.graded, pa.median::text AS median, row_number() OVER (ORDER BY a.due_at, a.id) AS ord
            FROM per_assignment pa JOIN assignments a ON a.id = pa.assignment_id
        ),
        x AS (SELECT ${by.group} AS g, d.learner_id, d.turned_in, d.turnaround FROM d ${by.join}),
        group_rows AS (${perGroupAndTotal(
          f.by,
          raw(`count(DISTINCT learner_id)::int AS learners, count(*)::int AS expected, count(*) FILTER (WHERE turned_in)::int AS turned_in,
               (percentile_cont(0.5) WITHIN GROUP (ORDER BY turnaround))::text AS median`),
          raw('x'),
        )})
        ${perAssignment ? raw(`SELECT 'assignment' AS kind, to_jsonb(assignment_rows) AS r FROM assignment_rows UNION ALL `) : raw('')}SELECT 'group' AS kind, to_jsonb(group_rows) AS r FROM group_rows`,
  );
  const of = <T>(kind: string) => result.filter((row) => row.kind === kind).map((row) => row.r as T);
  const assignments = of<{ id: number; title: string; due_at: string; expected: number; turned_in: number; graded: number; median: string | null; ord: number }>('assignment')
    .sort((a, b) => a.ord - b.ord)
    .map((r) => ({ assignmentId: r.id, title: r.title, dueAt: new Date(r.due_at), expected: r.expected, turnedIn: r.turned_in, graded: r.graded, medianTurnaround: r.median === null ? null : Number(r.median) }));
  const groups = of<{ group: string | null; learners: number; expected: number; turned_in: number; median: string | null }>('group').map((r) => ({
    group: r.group,
    learners: r.learners,
    expected: r.expected,
    turnedIn: r.turned_in,
    medianTurnaround: r.median === null ? null : Number(r.median),
  }));
  return { assignments, groups };
}
