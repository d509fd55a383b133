/**
 * What learners used of Dars and what they were given: for a learner's own page and profile,
 * and per cohort and learner for the programme's coordinators.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../platform/actor.ts';
import { NotFound } from '../platform/errors.ts';
import { Enrolment } from '../programmes/index.ts';
import { AllowanceIssue, AllowanceLedgerEntry } from './allowance.entity.ts';
import { type Period, addMonths, monthOf, todayIn } from './periods.ts';
import { payableProgramme } from './schemes.service.ts';

/** Bytes per learner over days [from, to) of their own calendar. */
export async function bytesUsed(em: EntityManager, learnerIds: number[], period: Period): Promise<Map<number, number>> {
  if (learnerIds.length === 0) return new Map();
  const rows = (await em.execute(
    `SELECT learner_id, sum(bytes)::bigint AS bytes FROM data_usage
     WHERE learner_id IN (${learnerIds.map(() => '?').join(',')}) AND day >= ?::date AND day < ?::date GROUP BY learner_id`,
    [...learnerIds, period.start, period.end],
  )) as { learner_id: number; bytes: string }[];
  return new Map(rows.map((r) => [r.learner_id, Number(r.bytes)]));
}

/** This month so far, in the learner's own calendar. */
export async function usedThisMonth(em: EntityManager, learner: Pick<Actor, 'id' | 'timeZone'>, now = new Date()) {
  const month = monthOf(todayIn(learner.timeZone, now));
  return { month, bytes: (await bytesUsed(em, [learner.id], month)).get(learner.id) ?? 0 };
}

/** The learner's own page: every allowance they were given, and their use month by month. */
export async function myAllowances(em: EntityManager, learner: Actor, now = new Date()) {
  const issues = await em.find(AllowanceIssue, { learner: learner.id }, { populate: ['scheme'], orderBy: { periodStart: 'desc', id: 'desc' } });
  const entries = issues.length ? await em.find(AllowanceLedgerEntry, { issue: { $in: issues.map((i) => i.id) } }, { orderBy: { id: 'asc' } }) : [];
  const lastChange = new Map<number, Date>();
  for (const e of entries) lastChange.set(e.issue.id, e.at);
  const thisMonth = monthOf(todayIn(learner.timeZone, now));
  const months: { month: Period; bytes: number }[] = [];
  for (let i = 0; i < 6; i++) {
    const start = addMonths(thisMonth.start, -i);
    const month = { start, end: addMonths(start, 1) };
    months.push({ month, bytes: (await bytesUsed(em, [learner.id], month)).get(learner.id) ?? 0 });
  }
  return {
    issues: issues.map((i) => ({
      id: i.id,
      scheme: i.scheme.getEntity().name,
      periodStart: i.periodStart,
      amount: i.amount,
      unit: i.unit,
      currency: i.currency ?? null,
      status: i.status,
      issuedAt: i.createdAt,
      changedAt: lastChange.get(i.id) ?? i.createdAt,
    })),
    months,
  };
}

export interface LearnerUsage {
  learnerId: number;
  displayName: string;
  bytes: number;
  /** Megabytes given (issued minus cancelled) for periods starting in the month. */
  megabytes: number;
  /** Airtime given, per currency, in minor units. */
  airtime: Record<string, number>;
}

/**
 * Data used on Dars against data given, per cohort and learner, for one calendar month. A
 * learner in two cohorts counts in both: each cohort's figures are about its own learners.
 */
export async function programmeUsage(em: EntityManager, actor: Actor, programmeId: number, month: Period) {
  const programme = await payableProgramme(em, actor, programmeId);
  const enrolments = await em.find(Enrolment, { cohort: { programme: programme.id }, status: 'active' }, { populate: ['learner', 'cohort'], orderBy: { cohort: { name: 'asc' }, learner: { displayName: 'asc' } } });
  const learnerIds = [...new Set(enrolments.map((e) => e.learner.id))];
  const used = await bytesUsed(em, learnerIds, month);
  const given = await givenIn(em, programme.id, learnerIds, month);

  const byCohort = new Map<number, { id: number; name: string; learners: LearnerUsage[] }>();
  for (const e of enrolments) {
    const cohort = e.cohort.getEntity();
    const entry = byCohort.get(cohort.id) ?? { id: cohort.id, name: cohort.name, learners: [] };
    const g = given.get(e.learner.id);
    entry.learners.push({
      learnerId: e.learner.id,
      displayName: e.learner.getEntity().displayName,
      bytes: used.get(e.learner.id) ?? 0,
      megabytes: g?.megabytes ?? 0,
      airtime: g?.airtime ?? {},
    });
    byCohort.set(cohort.id, entry);
  }
  const cohorts = [...byCohort.values()].map((c) => ({
    ...c,
    bytes: c.learners.reduce((s, l) => s + l.bytes, 0),
    megabytes: c.learners.reduce((s, l) => s + l.megabytes, 0),
    airtime: sumAirtime(c.learners.map((l) => l.airtime)),
  }));
  return { programme, cohorts };
}

async function givenIn(em: EntityManager, programmeId: number, learnerIds: number[], month: Period) {
  const out = new Map<number, { megabytes: number; airtime: Record<string, number> }>();
  if (learnerIds.length === 0) return out;
  const rows = (await em.execute(
    `SELECT l.learner_id, l.unit, l.currency, sum(l.amount)::bigint AS amount
     FROM allowance_ledger l JOIN allowance_schemes s ON s.id = l.scheme_id
     WHERE s.programme_id = ? AND l.learner_id IN (${learnerIds.map(() => '?').join(',')})
       AND l.period_start >= ?::date AND l.period_start < ?::date
     GROUP BY l.learner_id, l.unit, l.currency`,
    [programmeId, ...learnerIds, month.start, month.end],
  )) as { learner_id: number; unit: string; currency: string | null; amount: string }[];
  for (const r of rows) {
    const g = out.get(r.learner_id) ?? { megabytes: 0, airtime: {} };
    if (r.unit === 'megabytes') g.megabytes += Number(r.amount);
    else g.airtime[r.currency!] = (g.airtime[r.currency!] ?? 0) + Number(r.amount);
    out.set(r.learner_id, g);
  }
  return out;
}

function sumAirtime(list: Record<string, number>[]) {
  const out: Record<string, number> = {};
  for (const a of list) for (const [c, v] of Object.entries(a)) out[c] = (out[c] ?? 0) + v;
  return out;
}

/** A learner's allowance history within one programme, if the learner belongs to it. */
export async function learnerInProgramme(em: EntityManager, actor: Actor, programmeId: number, learnerId: number) {
  const programme = await payableProgramme(em, actor, programmeId);
  const enrolment = await em.findOne(Enrolment, { learner: learnerId, cohort: { programme: programme.id } }, { populate: ['learner'] });
  const paid = enrolment ? null : await em.findOne(AllowanceIssue, { learner: learnerId, scheme: { programme: programme.id } }, { populate: ['learner'] });
  const learner = enrolment?.learner.getEntity() ?? paid?.learner.getEntity();
  if (!learner) throw new NotFound();
  return { programme, learner };
}
