/** Enrolment over time: who joined, who left, who studied lately. Read-only; see scope.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReportViewer } from '../reports.policy.ts';
import type { ReportFilters } from '../reports.schemas.ts';
import { learnerGroup, perGroupAndTotal, scopeCohorts, type Range } from './scope.ts';
import { raw, rows, sql } from './sql.ts';

export interface EnrolmentGroup {
  /** null: everyone (the total row). */
  group: string | null;
  /** Learners enrolled at some moment of the range. */
  enrolled: number;
  /** Learners whose first enrolment in scope began in the range. */
  joined: number;
  /** Learners who withdrew from a cohort in scope during the range. */
  withdrew: number;
  /** Enrolled learners who studied in the last 7 / 30 days of the range. */
  active7: number;
  active30: number;
}

/**
 * Learners enrolled, joining and withdrawing, and active: who studied in the last 7 and 30 days of
 * the range, found from the last day of each month's study in the monthly rollup (rollups.ts) —
 * for a month that goes on past the end of the range, the days up to its end are read from study
 * time itself. The month rows are not narrowed to the learners in scope before they are counted:
 * the join to those learners afterwards does that for less (see hours.ts); only the days read from
 * study time are.
 */
export async function enrolmentByGroup(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<EnrolmentGroup[]> {
  const course = f.courseId ? sql`AND m.course_id = ${f.courseId}` : raw('');
  const by = learnerGroup(f.by, range, 'l.learner_id');
  const result = await rows<Record<keyof EnrolmentGroup, string | number | null>>(
    em,
    sql`WITH e AS (
          SELECT e.learner_id, e.enrolled_at, e.withdrawn_at FROM enrolments e WHERE e.cohort_id IN (${scopeCohorts(viewer, f)})
        ), l AS (
          SELECT learner_id, min(enrolled_at) AS first_enrolled,
                 bool_or(withdrawn_at >= ${range.start} AND withdrawn_at < ${range.end}) AS withdrew
            FROM e WHERE enrolled_at < ${range.end} AND (withdrawn_at IS NULL OR withdrawn_at >= ${range.start})
           GROUP BY learner_id
        ), months AS MATERIALIZED (
          SELECT m.learner_id, m.course_id, m.month, m.last_day FROM report_study_months m
           WHERE m.month >= date_trunc('month', ${range.to}::date - 29)::date AND m.month <= ${range.to}::date ${course}
             AND m.last_day > (${range.to}::date - 30)
        ), act AS (
          SELECT learner_id, max(last_day) AS last_day FROM (
            SELECT learner_id, last_day FROM months WHERE last_day <= ${range.to}::date
            UNION ALL
            SELECT s.learner_id, s.day FROM months m JOIN study_time s ON s.learner_id = m.learner_id AND s.course_id = m.course_id
             WHERE m.last_day > ${range.to}::date AND m.learner_id IN (SELECT learner_id FROM l)
               AND s.day >= greatest(m.month, ${range.to}::date - 29) AND s.day <= ${range.to}::date
          ) d
           GROUP BY learner_id
        ), x AS (
          SELECT ${by.group} AS g, l.first_enrolled, l.withdrew, act.learner_id AS active, act.last_day
            FROM l ${by.join} LEFT JOIN act ON act.learner_id = l.learner_id
        )
        ${perGroupAndTotal(
          f.by,
          sql`count(*)::int AS enrolled,
               count(*) FILTER (WHERE first_enrolled >= ${range.start})::int AS joined,
               count(*) FILTER (WHERE withdrew)::int AS withdrew,
               count(active) FILTER (WHERE last_day > (${range.to}::date - 7))::int AS active7,
               count(active)::int AS active30`,
          raw('x'),
        )}`,
  );
  return result.map((r) => ({ group: r.group as string | null, enrolled: Number(r.enrolled), joined: Number(r.joined), withdrew: Number(r.withdrew), active7: Number(r.active7), active30: Number(r.active30) }));
}

export interface EnrolmentPeriod {
  /** First day of the week or month. */
  period: string;
  joined: number;
  withdrew: number;
}

/** New enrolments and withdrawals per week (ranges up to about four months) or per month. */
export async function enrolmentOverTime(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range, unit: 'week' | 'month'): Promise<EnrolmentPeriod[]> {
  const result = await rows<{ period: string; joined: number; withdrew: number }>(
    em,
    sql`WITH e AS (
          SELECT e.enrolled_at, e.withdrawn_at FROM enrolments e WHERE e.cohort_id IN (${scopeCohorts(viewer, f)})
        ), ev AS (
          SELECT date_trunc(${unit}, enrolled_at AT TIME ZONE ${f.timeZone})::date AS period, 1 AS joined, 0 AS withdrew FROM e
           WHERE enrolled_at >= ${range.start} AND enrolled_at < ${range.end}
          UNION ALL
          SELECT date_trunc(${unit}, withdrawn_at AT TIME ZONE ${f.timeZone})::date, 0, 1 FROM e
           WHERE withdrawn_at >= ${range.start} AND withdrawn_at < ${range.end}
        )
        SELECT to_char(period, 'YYYY-MM-DD') AS period, sum(joined)::int AS joined, sum(withdrew)::int AS withdrew FROM ev GROUP BY period ORDER BY period`,
  );
  const byPeriod = new Map(result.map((r) => [r.period, r]));
  return periodsOf(range, unit).map((p) => ({ period: p, joined: byPeriod.get(p)?.joined ?? 0, withdrew: byPeriod.get(p)?.withdrew ?? 0 }));
}

/** Every week (starting Monday, as date_trunc does) or month touching the range, so empty periods show as zero. */
export function periodsOf(range: Pick<Range, 'from' | 'to'>, unit: 'week' | 'month'): string[] {
  const out: string[] = [];
  const d = new Date(`${range.from}T00:00:00Z`);
  if (unit === 'month') d.setUTCDate(1);
  else d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  const last = new Date(`${range.to}T00:00:00Z`);
  while (d <= last) {
    out.push(d.toISOString().slice(0, 10));
    if (unit === 'month') d.setUTCMonth(d.getUTCMonth() + 1);
    else d.setUTCDate(d.getUTCDate() + 7);
  }
  return out;
}
