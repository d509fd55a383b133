/** Study hours toward the programme's targets, language and soft skills apart. Read-only; see scope.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReportViewer } from '../reports.policy.ts';
import type { ReportFilters } from '../reports.schemas.ts';
import { learnerGroup, perGroupAndTotal, population, scopeCohorts, type Range } from './scope.ts';
import { raw, rows, sql, type Sql } from './sql.ts';

/**
 * A course counts toward the language or the soft-skills target by its `subject`, written in its
 * course.yaml (`language` or `soft-skills`).
 */
export const SUBJECTS = { language: 'language', softSkills: 'soft-skills' } as const;

/** Seconds a learner must have studied by the end of the range to be on track; 0 leaves a subject out. */
export interface Expected {
  languageSeconds: number;
  softSkillsSeconds: number;
}

/**
 * The whole calendar months inside the range, read from the monthly rollup: [from, to) as first
 * days of months. The last month counts whole when the range ends on its last day or on `today`
 * (no later study exists yet; null where later records may exist, as allowances issued ahead).
 * Null when no whole month fits.
 */
export function wholeMonths(range: Pick<Range, 'from' | 'to'>, today: string | null): { from: string; to: string } | null {
  const first = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  const from = new Date(`${range.from}T00:00:00Z`);
  const to = new Date(`${range.to}T00:00:00Z`);
  const start = from.getUTCDate() === 1 ? from : new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1));
  const next = new Date(to.getTime() + 86_400_000);
  const end = next.getUTCDate() === 1 || (today !== null && range.to >= today) ? first(new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() + 1, 1))) : first(to);
  if (start >= end) return null;
  return { from: start.toISOString().slice(0, 10), to: end.toISOString().slice(0, 10) };
}

/** A month as the study totals count it: year × 12 + month − 1, from its first day 'YYYY-MM-01'. */
export function monthNumber(firstDay: string): number {
  return Number(firstDay.slice(0, 4)) * 12 + Number(firstDay.slice(5, 7)) - 1;
}

/**
 * Seconds per learner and subject in the range: whole months from the rollups, the days before and
 * after them from study time itself (a default range of whole months reads none). Without a course
 * filter the whole months are the difference of two running totals per learner
 * (report_study_totals); a course filter reads that course's months. A course's subject is looked
 * up once, as two lists of ids, instead of joining every row to its course.
 *
 * `learners` narrows the rows to some learners (a page of the per-learner export). Without it
 * every learner's rows are read and the caller joins its learners afterwards: for a population of
 * most of the school, as a report usually is, that costs less than testing each row against a
 * hash of 100,000 learners.
 */
function studied(f: ReportFilters, range: Range, learners: Sql | null, today: string): Sql {
  const of = (col: string) => (learners ? sql`AND ${raw(col)} IN (${learners})` : raw(''));
  const isSubject = (name: string, col: string) => sql`${raw(col)} = ANY (ARRAY(SELECT c.id FROM courses c WHERE c.subject = ${name}))`;
  const bySubject = (col: string, seconds: string) =>
    sql`CASE WHEN ${isSubject(SUBJECTS.language, col)} THEN ${raw(seconds)} END AS lang, CASE WHEN ${isSubject(SUBJECTS.softSkills, col)} THEN ${raw(seconds)} END AS soft`;
  const months = wholeMonths(range, today);
  // Running total through the month before `month`: the array's element (month − first month); 0
  // before the learner's first month, the last total after their last.
  const through = (col: string, month: string) => sql`coalesce(t.${raw(col)}[least(${monthNumber(month)}::int - t.first_month, cardinality(t.${raw(col)}))], 0)`;
  const whole = !months
    ? null
    : f.courseId
      ? sql`SELECT m.learner_id, ${bySubject('m.course_id', 'm.seconds::int')} FROM report_study_months m
             WHERE m.month >= ${months.from}::date AND m.month < ${months.to}::date AND m.course_id = ${f.courseId} ${of('m.learner_id')}`
      : sql`SELECT t.learner_id, ${through('language', months.to)} - ${through('language', months.from)} AS lang,
                   ${through('soft_skills', months.to)} - ${through('soft_skills', months.from)} AS soft
              FROM report_study_totals t WHERE true ${of('t.learner_id')}`;
  // The running totals give one row per learner: when the range is whole months, they are the answer.
  const cutDays = !months || months.from !== range.from || months.to <= range.to;
  if (whole && !f.courseId && !cutDays) return whole;
  const days = months
    ? sql`((s.day >= ${range.from}::date AND s.day < ${months.from}::date) OR (s.day >= ${months.to}::date AND s.day <= ${range.to}::date))`
    : sql`(s.day >= ${range.from}::date AND s.day <= ${range.to}::date)`;
  const course = f.courseId ? sql`AND s.course_id = ${f.courseId}` : raw('');
  return sql`SELECT x.learner_id, sum(x.lang) AS lang, sum(x.soft) AS soft
    FROM (${whole ? sql`${whole} UNION ALL ` : raw('')}SELECT s.learner_id, ${bySubject('s.course_id', 's.seconds')} FROM study_time s WHERE ${days} ${course} ${of('s.learner_id')}) x
    GROUP BY x.learner_id`;
}

export interface HoursGroup {
  group: string | null;
  learners: number;
  /** Hours. */
  languageAverage: number;
  softSkillsAverage: number;
  languageMedian: number;
  softSkillsMedian: number;
  onTrack: number;
}

export async function hoursByGroup(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range, expected: Expected, today: string): Promise<HoursGroup[]> {
  const by = learnerGroup(f.by, range, 'pop.learner_id');
  const result = await rows<Record<string, string | number | null>>(
    em,
    sql`WITH pop AS (${population(viewer, f, range)}),
        st AS (${studied(f, range, null, today)}),
        x AS (
          SELECT ${by.group} AS g, coalesce(st.lang, 0) AS lang, coalesce(st.soft, 0) AS soft
            FROM pop ${by.join} LEFT JOIN st ON st.learner_id = pop.learner_id
        )
        ${perGroupAndTotal(
          f.by,
          sql`count(*)::int AS learners,
               coalesce(avg(lang), 0) / 3600.0 AS lang_avg, coalesce(avg(soft), 0) / 3600.0 AS soft_avg,
               coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY lang), 0) / 3600.0 AS lang_median,
               coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY soft), 0) / 3600.0 AS soft_median,
               count(*) FILTER (WHERE lang >= ${expected.languageSeconds} AND soft >= ${expected.softSkillsSeconds})::int AS on_track`,
          raw('x'),
        )}`,
  );
  return result.map((r) => ({
    group: r.group as string | null,
    learners: Number(r.learners),
    languageAverage: Number(r.lang_avg),
    softSkillsAverage: Number(r.soft_avg),
    languageMedian: Number(r.lang_median),
    softSkillsMedian: Number(r.soft_median),
    onTrack: Number(r.on_track),
  }));
}

export interface LearnerHours {
  id: number;
  username: string;
  displayName: string;
  languageHours: number;
  softSkillsHours: number;
  onTrack: boolean;
}

/** How many learners one page of the per-learner export reads: memory stays flat however many there are. */
export const LEARNER_PAGE = 2000;

/**
 * The per-learner table, one keyset page at a time (learners after `after`, by id). The page of
 * learners walks the enrolments' learner index in order and stops after LEARNER_PAGE, so each page
 * costs the same however far into the export it is.
 */
export async function learnerHoursPage(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range, expected: Expected, today: string, after: number): Promise<LearnerHours[]> {
  const page = sql`SELECT DISTINCT e.learner_id FROM enrolments e
    WHERE e.learner_id > ${after} AND e.cohort_id IN (${scopeCohorts(viewer, f)}) AND e.enrolled_at < ${range.end} AND (e.withdrawn_at IS NULL OR e.withdrawn_at >= ${range.start})
    ORDER BY e.learner_id LIMIT ${LEARNER_PAGE}`;
  const result = await rows<{ id: number; username: string; display_name: string; lang: string | null; soft: string | null }>(
    em,
    sql`WITH page AS (${page}), st AS (${studied(f, range, raw('SELECT learner_id FROM page'), today)})
        SELECT u.id, u.username, u.display_name, st.lang, st.soft FROM page JOIN users u ON u.id = page.learner_id LEFT JOIN st ON st.learner_id = page.learner_id
        ORDER BY u.id`,
  );
  return result.map((r) => {
    const lang = Number(r.lang ?? 0);
    const soft = Number(r.soft ?? 0);
    return { id: r.id, username: r.username, displayName: r.display_name, languageHours: lang / 3600, softSkillsHours: soft / 3600, onTrack: lang >= expected.languageSeconds && soft >= expected.softSkillsSeconds };
  });
}
