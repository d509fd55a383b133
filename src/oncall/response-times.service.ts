/**
 * How fast learners get an answer. For the threads opened in a period (whole days in the
 * coordinator's time zone): how many, how many answered, and the median and 90th percentile of
 * the time to the first teacher answer, per cohort and per teacher who gave it. Percentiles are
 * computed by PostgreSQL (percentile_cont, interpolated), over threads that have an answer.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/index.ts';
import type { Actor } from '../platform/actor.ts';
import { Forbidden } from '../platform/errors.ts';
import { Cohort, cohortsManagedBy } from '../programmes/index.ts';

export interface Figures {
  opened: number;
  answered: number;
  /** Seconds; null when nothing was answered. */
  median: number | null;
  p90: number | null;
}

export interface ResponseTimesQuery {
  /** Inclusive calendar days, YYYY-MM-DD, read in `timeZone`. */
  from: string;
  to: string;
  timeZone: string;
  programmeId?: number;
}

export interface ResponseTimes {
  total: Figures;
  cohorts: (Figures & { id: number; name: string; programme: string })[];
  teachers: (Omit<Figures, 'opened'> & { id: number; name: string })[];
  /** Open threads with no answer yet, asked more than 24 hours ago (whenever that was). */
  unanswered: { id: number; cohort: string; contextKind: string; contextTitle: string; openedAt: Date; hours: number }[];
}

type FigureRow = { key: number | null; opened: number; answered: number; median: number | null; p90: number | null };

const figures = (r: FigureRow | undefined): Figures => ({
  opened: r?.opened ?? 0,
  answered: r?.answered ?? 0,
  median: r?.median == null ? null : Number(r.median),
  p90: r?.p90 == null ? null : Number(r.p90),
});

export async function responseTimes(em: EntityManager, actor: Actor, q: ResponseTimesQuery, now = new Date()): Promise<ResponseTimes> {
  if (actor.role !== 'coordinator' && actor.role !== 'admin') throw new Forbidden();
  const cohorts = await em.find(Cohort, { $and: [cohortsManagedBy(actor), q.programmeId ? { programme: q.programmeId } : {}] }, { populate: ['programme'], orderBy: { name: 'asc' } });
  const empty: ResponseTimes = { total: figures(undefined), cohorts: [], teachers: [], unanswered: [] };
  if (cohorts.length === 0) return empty;
  const ids = cohorts.map((c) => c.id);
  const inCohorts = `cohort_id IN (${ids.map(() => '?').join(', ')})`;
  // Local midnight of the first day to local midnight after the last, as instants.
  const period = `opened_at >= (?::date)::timestamp AT TIME ZONE ? AND opened_at < ((?::date) + 1)::timestamp AT TIME ZONE ?`;
  const periodParams = [q.from, q.timeZone, q.to, q.timeZone];
  const wait = `extract(epoch FROM first_answered_at - opened_at)`;

  const byCohort = (await em.execute(
    `SELECT cohort_id AS key, count(*)::int AS opened, count(first_answered_at)::int AS answered,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ${wait}) AS median,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY ${wait}) AS p90
       FROM oncall_threads WHERE ${inCohorts} AND ${period}
      GROUP BY GROUPING SETS ((cohort_id), ())`,
    [...ids, ...periodParams],
  )) as FigureRow[];

  const byTeacher = (await em.execute(
    `SELECT first_answered_by_id AS key, 0 AS opened, count(*)::int AS answered,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ${wait}) AS median,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY ${wait}) AS p90
       FROM oncall_threads WHERE ${inCohorts} AND ${period} AND first_answered_by_id IS NOT NULL
      GROUP BY first_answered_by_id`,
    [...ids, ...periodParams],
  )) as FigureRow[];

  const waiting = (await em.execute(
    `SELECT id, cohort_id, context_kind, context_title, opened_at
       FROM oncall_threads
      WHERE ${inCohorts} AND status = 'open' AND first_answered_at IS NULL AND opened_at < ?::timestamptz - interval '24 hours'
      ORDER BY opened_at, id LIMIT 200`,
    [...ids, now],
  )) as { id: number; cohort_id: number; context_kind: string; context_title: string; opened_at: Date }[];

  const teachers = byTeacher.length ? await em.find(User, { id: { $in: byTeacher.map((r) => r.key!) } }) : [];
  const teacherName = new Map(teachers.map((t) => [t.id, t.displayName]));
  const cohortName = new Map(cohorts.map((c) => [c.id, c.name]));
  return {
    total: figures(byCohort.find((r) => r.key === null)),
    cohorts: cohorts.map((c) => ({ id: c.id, name: c.name, programme: c.programme.getEntity().name, ...figures(byCohort.find((r) => r.key === c.id)) })),
    teachers: byTeacher
      .map((r) => {
        const { opened: _opened, ...rest } = figures(r);
        return { id: r.key!, name: teacherName.get(r.key!) ?? '', ...rest };
      })
      .sort((a, b) => a.name.localeCompare(b.name)),
    unanswered: waiting.map((w) => {
      const openedAt = new Date(w.opened_at);
      return { id: w.id, cohort: cohortName.get(w.cohort_id) ?? '', contextKind: w.context_kind, contextTitle: w.context_title, openedAt, hours: Math.floor((now.getTime() - openedAt.getTime()) / 3_600_000) };
    }),
  };
}
