/**
 * Report queries read the tables of other slices (programmes, courses, assignments, allowances,
 * accounts) with plain SQL. This is the one sanctioned exception to "a slice reaches another only
 * through its services": a report must count hundreds of thousands of rows inside PostgreSQL,
 * which no per-record service can do. The rules that keep it safe:
 *   - only SELECTs, only under src/reports/queries/, nothing here ever writes;
 *   - every query starts from `scopeCohorts`, the cohorts the viewer may see, so a coordinator's
 *     numbers never include another programme's learners.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReportViewer } from '../reports.policy.ts';
import type { Breakdown, ReportFilters } from '../reports.schemas.ts';
import { join, raw, rows, sql, type Sql } from './sql.ts';

/** The instants a range of calendar days covers in the viewer's time zone: [start, end). */
export interface Range {
  start: Date;
  end: Date;
  from: string;
  to: string;
}

export async function settleRange(em: EntityManager, f: Pick<ReportFilters, 'from' | 'to' | 'timeZone'>): Promise<Range> {
  const [r] = await rows<{ start: Date; end: Date }>(
    em,
    sql`SELECT ((${f.from}::date)::timestamp AT TIME ZONE ${f.timeZone}) AS start, (((${f.to}::date) + 1)::timestamp AT TIME ZONE ${f.timeZone}) AS "end"`,
  );
  return { start: new Date(r!.start), end: new Date(r!.end), from: f.from, to: f.to };
}

/** The cohorts a report counts: the viewer's, narrowed by the programme, site, cohort and course filters. */
export function scopeCohorts(viewer: ReportViewer, f: ReportFilters): Sql {
  if (f.cohortIds) return sql`SELECT unnest(${`{${f.cohortIds.join(',')}}`}::int[])`;
  const where: Sql[] = [raw('true')];
  if (viewer.coordinatorId !== null) where.push(sql`c.programme_id IN (SELECT pc.programme_id FROM programme_coordinators pc WHERE pc.user_id = ${viewer.coordinatorId})`);
  if (f.programmeId) where.push(sql`c.programme_id = ${f.programmeId}`);
  if (f.siteId) where.push(sql`c.site_id = ${f.siteId}`);
  if (f.cohortId) where.push(sql`c.id = ${f.cohortId}`);
  if (f.courseId) where.push(sql`c.id IN (SELECT cc.cohort_id FROM cohort_courses cc WHERE cc.course_id = ${f.courseId})`);
  return sql`SELECT c.id FROM cohorts c WHERE ${join(where, ' AND ')}`;
}

/**
 * The filters with the cohorts in scope looked up once. Given as a list, their number is known
 * when each report statement is planned: as a condition on the coordinator's programmes it was
 * guessed at a handful of cohorts and a few thousand learners, and half a million rows were then
 * sorted where a hash table would do.
 */
export async function settleScope(em: EntityManager, viewer: ReportViewer, f: ReportFilters): Promise<ReportFilters> {
  const [r] = await rows<{ ids: number[]; programmes: number[] }>(
    em,
    sql`SELECT coalesce(array_agg(c.id ORDER BY c.id), '{}') AS ids, coalesce(array_agg(DISTINCT c.programme_id), '{}') AS programmes
          FROM cohorts c WHERE c.id IN (${scopeCohorts(viewer, { ...f, cohortIds: undefined })})`,
  );
  return { ...f, cohortIds: r!.ids.map(Number), programmeIds: r!.programmes.map(Number) };
}

/** The programmes of the cohorts in scope (allowance schemes and budgets belong to programmes). */
export function scopeProgrammes(viewer: ReportViewer, f: ReportFilters): Sql {
  if (f.programmeIds) return sql`SELECT unnest(${`{${f.programmeIds.join(',')}}`}::int[])`;
  return sql`SELECT DISTINCT c.programme_id FROM cohorts c WHERE c.id IN (${scopeCohorts(viewer, f)})`;
}

/**
 * The learners a report is about: enrolled in a cohort in scope at some moment of the range
 * (enrolled before it ended, not withdrawn before it began). Each learner once, however many
 * cohorts they are in, in the order of their ids: DISTINCT ON sorts, where DISTINCT hashed, and
 * sorting 100,000 ids costs half as much as hashing them (and what joins them may use the order).
 */
export function population(viewer: ReportViewer, f: ReportFilters, range: Range): Sql {
  return sql`SELECT DISTINCT ON (e.learner_id) e.learner_id FROM enrolments e
    WHERE e.cohort_id IN (${scopeCohorts(viewer, f)}) AND e.enrolled_at < ${range.end} AND (e.withdrawn_at IS NULL OR e.withdrawn_at >= ${range.start})
    ORDER BY e.learner_id`;
}

/** The age bands of donor reports. Only the birth year is known, so age is counted in whole years at the end of the range. */
export const AGE_BANDS = ['under_18', '18_24', '25_34', '35_49', '50_plus'] as const;

/**
 * The group a learner (users row `u`) falls in for a breakdown; a fact the learner kept to
 * themselves is 'not_stated', so every learner is counted in exactly one group.
 */
export function groupOf(by: Breakdown, range: Range): Sql {
  switch (by) {
    case 'none':
      return raw(`'all'`);
    case 'sex':
      return raw(`coalesce(u.sex, 'not_stated')`);
    case 'nationality':
      return raw(`coalesce(upper(u.nationality), 'not_stated')`);
    case 'legal_status':
      return raw(`coalesce(u.legal_status, 'not_stated')`);
    case 'disability':
      return raw(`CASE WHEN u.disability IS NULL THEN 'not_stated' WHEN u.disability THEN 'yes' ELSE 'no' END`);
    case 'age': {
      const year = Number(range.to.slice(0, 4));
      const age = sql`(${year}::int - u.birth_year)`;
      return sql`CASE WHEN u.birth_year IS NULL THEN 'not_stated' WHEN ${age} < 18 THEN 'under_18' WHEN ${age} < 25 THEN '18_24'
        WHEN ${age} < 35 THEN '25_34' WHEN ${age} < 50 THEN '35_49' ELSE '50_plus' END`;
    }
  }
}

/**
 * The breakdown group of the learner whose id is `learner`, and the join to their users row `u`
 * it needs: none for a report without a breakdown, which then does not look up every learner.
 */
export function learnerGroup(by: Breakdown, range: Range, learner: string): { group: Sql; join: Sql } {
  if (by === 'none') return { group: groupOf(by, range), join: raw('') };
  return { group: groupOf(by, range), join: raw(`JOIN users u ON u.id = ${learner}`) };
}

/**
 * A row per group of `from` (whose column `g` is the group) and one more, group null, for everyone.
 * Without a breakdown there is one group, everyone: its row is worked out once and given twice
 * instead of GROUPING SETS sorting every learner by a constant.
 */
export function perGroupAndTotal(by: Breakdown, columns: Sql, from: Sql): Sql {
  if (by === 'none') return everyone(sql`SELECT ${columns} FROM ${from}`);
  return sql`SELECT g AS "group", ${columns} FROM ${from} GROUP BY GROUPING SETS ((g), ())`;
}

/** The one row of `totals` as the rows of a report without a breakdown: group 'all', and group null for everyone. */
export function everyone(totals: Sql): Sql {
  return sql`SELECT t."group", a.* FROM (${totals}) a CROSS JOIN (VALUES ('all'), (NULL)) t ("group")`;
}

/** The fixed groups of a breakdown, in the order tables show them (nationalities come from the data). */
export function knownGroups(by: Breakdown): readonly string[] {
  switch (by) {
    case 'none':
      return ['all'];
    case 'sex':
      return ['female', 'male', 'other', 'not_stated'];
    case 'age':
      return [...AGE_BANDS, 'not_stated'];
    case 'legal_status':
      return ['refugee', 'asylum_seeker', 'international_protection', 'migrant', 'host_community', 'other', 'not_stated'];
    case 'disability':
      return ['yes', 'no', 'not_stated'];
    case 'nationality':
      return [];
  }
}
