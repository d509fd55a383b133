/**
 * The allowance report read from monthly totals per programme and running totals per learner, with
 * the months at a range's edges read learner by learner: for many ranges, scopes and breakdowns,
 * its figures equal those counted straight from the allowances and data use, before and after an
 * incremental refresh.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/accounts/index.ts';
import { AllowanceBatch, AllowanceIssue, AllowanceLedgerEntry, AllowanceScheme, AllowanceSchemeVersion, DataUsage } from '../../src/allowances/index.ts';
import { Enrolment, type Cohort, type Programme } from '../../src/programmes/index.ts';
import { refreshRollups } from '../../src/reports/index.ts';
import { allowanceFigures } from '../../src/reports/queries/allowances.ts';
import { settleRange, settleScope } from '../../src/reports/queries/scope.ts';
import type { ReportViewer } from '../../src/reports/reports.policy.ts';
import type { Breakdown, ReportFilters } from '../../src/reports/reports.schemas.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeProgramme, makeUser } from '../support/factories.ts';

type Place = 'a1' | 'a2' | 'b' | 'gone';
interface Given {
  learner: number;
  programme: number;
  periodStart: string;
  unit: 'megabytes' | 'airtime';
  currency: string | null;
  amount: number;
  issue: AllowanceIssue;
}

let t: TestApp;
let coordinator: ReportViewer;
const admin: ReportViewer = { coordinatorId: null };
let small: Cohort;
let programmes: { a: Programme; b: Programme };
const learners: { user: User; places: Place[] }[] = [];
const issues: Given[] = [];
const used: { learner: number; day: string; bytes: number }[] = [];
const schemes = new Map<string, { scheme: AllowanceScheme; batch: AllowanceBatch; actor: User }>();

/** A fixed sequence of pseudo-random numbers in [0, 1): the same school on every run. */
function sequence(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function give(em: EntityManager, who: User, programme: Programme, periodStart: string, unit: 'megabytes' | 'airtime', amount: number, cancelled = false) {
  const { scheme, batch, actor } = schemes.get(`${programme.id}:${unit}`)!;
  const currency = unit === 'airtime' ? 'EUR' : null;
  const issue = em.create(AllowanceIssue, { scheme, batch, learner: who, periodStart, amount, unit, currency, phone: '+306900000000', status: cancelled ? 'cancelled' : 'sent' });
  em.create(AllowanceLedgerEntry, { issue, batch, scheme, learner: who, periodStart, kind: 'issued', amount, unit, currency, statusAfter: 'pending', whyKey: 'allowances:why.issued', whyVars: {}, actor });
  if (!cancelled) issues.push({ learner: who.id, programme: programme.id, periodStart, unit, currency, amount, issue });
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

beforeAll(async () => {
  t = await bootApp();
  const em = t.em();
  const coordinatorA = await makeUser(em, 'coordinator', { timeZone: 'Europe/Athens' });
  coordinator = { coordinatorId: coordinatorA.id };
  const a = await makeProgramme(em, [coordinatorA]);
  const b = await makeProgramme(em, []);
  programmes = { a, b };
  const cohorts = { a1: await makeCohort(em, a), a2: await makeCohort(em, a), b: await makeCohort(em, b) };
  small = cohorts.a2;
  for (const programme of [a, b]) {
    for (const unit of ['megabytes', 'airtime'] as const) {
      const scheme = em.create(AllowanceScheme, { programme, name: unit, createdBy: coordinatorA });
      const version = em.create(AllowanceSchemeVersion, { scheme, version: 1, startsOn: '2025-12-01', period: 'monthly', unit, currency: unit === 'airtime' ? 'EUR' : null, amount: 500, budget: 100_000, rule: 'enrolled', threshold: 1, cohortIds: [], siteIds: [], createdBy: coordinatorA });
      const batch = em.create(AllowanceBatch, { scheme, version, periodStart: '2025-12-01', periodEnd: '2025-12-31', idempotencyKey: `batch-${programme.id}-${unit}`, issuedCount: 0, createdBy: coordinatorA });
      schemes.set(`${programme.id}:${unit}`, { scheme, batch, actor: coordinatorA });
    }
  }
  await em.flush();

  // Eight learners in A1, four in A2 (the small scope), four in B, two who left A1 in January (out of
  // scope after it, still given A's allowances), and one in both A1 and B (given by both).
  const plan: Place[][] = [...Array(8).fill(['a1']), ...Array(4).fill(['a2']), ...Array(4).fill(['b']), ['gone'], ['gone'], ['a1', 'b']];
  const sexes = ['female', 'male', null] as const;
  for (const [i, places] of plan.entries()) {
    const user = await makeUser(em, 'learner', { sex: sexes[i % 3] ?? undefined });
    for (const place of places) {
      const cohort = place === 'gone' ? cohorts.a1 : cohorts[place];
      em.create(Enrolment, { cohort, learner: user, status: place === 'gone' ? 'withdrawn' : 'active', enrolledAt: new Date('2025-12-01T00:00:00Z'), withdrawnAt: place === 'gone' ? new Date('2026-01-15T00:00:00Z') : null });
    }
    learners.push({ user, places });
  }
  await em.flush();

  // Monthly megabytes on the 1st most months, weekly-style ones mid-month now and then, some airtime, some
  // cancelled; data used on random days.
  const random = sequence(11);
  for (const { user, places } of learners) {
    const from = places.includes('b') && !places.includes('a1') ? [b] : places.includes('b') ? [a, b] : [a];
    for (const programme of from) {
      for (let month = 0; month < 11; month++) {
        const first = `2026-${String(month + 1).padStart(2, '0')}-01`;
        if (random() < 0.8) give(em, user, programme, first, 'megabytes', 100 + Math.floor(random() * 5) * 100, random() < 0.1);
        if (random() < 0.3) give(em, user, programme, `2026-${String(month + 1).padStart(2, '0')}-${String(8 + Math.floor(random() * 20)).padStart(2, '0')}`, 'megabytes', 50);
        if (random() < 0.2) give(em, user, programme, first, 'airtime', 300);
      }
    }
    const days = new Set<string>();
    for (let n = 0; n < 25; n++) days.add(day(Date.parse('2026-01-01T00:00:00Z') + Math.floor(random() * 320) * 86_400_000));
    for (const d of days) {
      const bytes = (1 + Math.floor(random() * 40)) * 1_000_000;
      em.create(DataUsage, { learner: user, day: d, bytes });
      used.push({ learner: user.id, day: d, bytes });
    }
  }
  await em.flush();
  await refreshRollups(t.em(), { wait: true });
});
afterAll(async () => t.close());

/** The figures counted straight from the allowances and data use, for the learners in scope. */
function expected(range: { start: Date; end: Date; from: string; to: string }, scope: { programmes: number[]; places: Place[] }, by: Breakdown) {
  const inScope = new Map(
    learners
      .filter((l) => l.places.some((p) => scope.places.includes(p) && (p !== 'gone' || range.start < new Date('2026-01-15T00:00:00Z'))))
      .map((l) => [l.user.id, l.user]),
  );
  const months = new Map<string, { month: string; unit: string; currency: string | null; learners: Set<number>; issued: number; usedBytes: number }>();
  const monthRow = (month: string, unit: string, currency: string | null) => {
    const key = `${month}|${unit}|${currency}`;
    if (!months.has(key)) months.set(key, { month, unit, currency, learners: new Set(), issued: 0, usedBytes: 0 });
    return months.get(key)!;
  };
  const groupOf = (id: number) => (by === 'none' ? 'all' : (inScope.get(id)!.sex ?? 'not_stated'));
  const groups = new Map<string | null, { learners: Set<number>; issuedLearners: Set<number>; issued: number; usedBytes: number }>();
  const groupRow = (g: string | null) => {
    if (!groups.has(g)) groups.set(g, { learners: new Set(), issuedLearners: new Set(), issued: 0, usedBytes: 0 });
    return groups.get(g)!;
  };
  groupRow(null);
  for (const id of inScope.keys()) for (const g of [null, groupOf(id)]) groupRow(g).learners.add(id);
  for (const i of issues) {
    if (!inScope.has(i.learner) || !scope.programmes.includes(i.programme) || i.periodStart < range.from || i.periodStart > range.to) continue;
    const m = monthRow(`${i.periodStart.slice(0, 8)}01`, i.unit, i.currency);
    m.learners.add(i.learner);
    m.issued += i.amount;
    if (i.unit !== 'megabytes') continue;
    for (const g of [null, groupOf(i.learner)]) {
      groupRow(g).issuedLearners.add(i.learner);
      groupRow(g).issued += i.amount;
    }
  }
  for (const u of used) {
    if (!inScope.has(u.learner) || u.day < range.from || u.day > range.to) continue;
    monthRow(`${u.day.slice(0, 8)}01`, 'megabytes', null).usedBytes += u.bytes;
    for (const g of [null, groupOf(u.learner)]) groupRow(g).usedBytes += u.bytes;
  }
  return {
    months: [...months.values()]
      .map((m) => ({ month: m.month, unit: m.unit, currency: m.currency, learners: m.learners.size, issued: m.issued, usedMegabytes: m.unit === 'megabytes' ? Math.round(m.usedBytes / 1_000_000) : null }))
      .sort((p, q) => `${p.month}${p.unit}${p.currency}`.localeCompare(`${q.month}${q.unit}${q.currency}`)),
    groups: [...groups.entries()]
      .flatMap(([group, g]) => {
        const row = { group, learners: g.learners.size, issuedLearners: g.issuedLearners.size, issuedMegabytes: g.issued, usedMegabytes: Math.round(g.usedBytes / 1_000_000) };
        return by === 'none' && group === null ? [row, { ...row, group: 'all' }] : by === 'none' ? [] : [row];
      })
      .sort((p, q) => (p.group ?? '~').localeCompare(q.group ?? '~')),
  };
}

const RANGES: [string, string][] = [
  ['2026-01-01', '2026-11-23'], // everything, up to today
  ['2026-04-01', '2026-09-30'], // whole months
  ['2026-06-01', '2026-06-30'], // one month
  ['2026-03-15', '2026-07-10'], // both edges mid-month
  ['2026-05-31', '2026-06-01'], // two days about a month's turn
  ['2026-07-17', '2026-07-17'], // one day
  ['2026-01-10', '2026-02-20'], // the two who left are in scope at its start
  ['2025-01-01', '2025-12-31'], // before any allowance
];

async function expectExact(viewer: ReportViewer, scope: { programmes: number[]; places: Place[] }, narrow: Partial<ReportFilters> = {}) {
  for (const [from, to] of RANGES) {
    for (const by of ['none', 'sex'] as const) {
      const em = t.em();
      const f: ReportFilters = { from, to, by, timeZone: 'Europe/Athens', ...narrow };
      const [range, scoped] = await Promise.all([settleRange(em, f), settleScope(em, viewer, f)]);
      const figures = await allowanceFigures(em, viewer, scoped, range);
      const want = expected(range, scope, by);
      const label = `${from}..${to} by ${by}`;
      // A month with a budget only (the batch) and nothing given or used is not what this test is about.
      const months = figures.months
        .filter((m) => m.learners > 0 || m.issued > 0 || (m.usedMegabytes ?? 0) > 0)
        .map(({ month, unit, currency, learners, issued, usedMegabytes }) => ({ month, unit, currency, learners, issued, usedMegabytes }));
      expect(months, label).toEqual(want.months);
      expect([...figures.groups].sort((p, q) => (p.group ?? '~').localeCompare(q.group ?? '~')), label).toEqual(want.groups);
    }
  }
}

describe('allowance figures from the rollups', () => {
  it('when a programme has learners out of scope, then each range equals the allowances and data use counted straight, per month and per group', async () => {
    expect(issues.length).toBeGreaterThan(150);
    await expectExact(coordinator, { programmes: [programmes.a.id], places: ['a1', 'a2', 'gone'] });
  });

  it('when the scope is one small cohort, then the learners in it are counted directly, with the same figures', async () => {
    await expectExact(coordinator, { programmes: [programmes.a.id], places: ['a2'] }, { cohortId: small.id });
  });

  it('when every programme is in scope, then a learner given allowances by two programmes counts once a month', async () => {
    await expectExact(admin, { programmes: [programmes.a.id, programmes.b.id], places: ['a1', 'a2', 'b', 'gone'] });
  });

  it('when allowances are given and cancelled after a refresh, then the incremental refresh keeps the totals equal to a count from scratch', async () => {
    const em = t.em();
    const [x, y] = learners.map((l) => l.user) as [User, User];
    give(em, x, programmes.a, '2026-06-05', 'megabytes', 700);
    give(em, y, programmes.a, '2026-11-03', 'airtime', 100);
    const cancelled = issues.find((i) => i.learner === y.id && i.unit === 'megabytes')!;
    const issue = await em.findOneOrFail(AllowanceIssue, cancelled.issue.id);
    issue.status = 'cancelled';
    const { scheme, batch, actor } = schemes.get(`${programmes.a.id}:megabytes`)!;
    em.create(AllowanceLedgerEntry, { issue, batch, scheme, learner: y, periodStart: issue.periodStart, kind: 'cancelled', amount: -issue.amount, unit: issue.unit, currency: issue.currency, statusAfter: 'cancelled', whyKey: 'allowances:why.cancelled', whyVars: {}, actor });
    issues.splice(issues.indexOf(cancelled), 1);
    await em.flush();
    expect(await refreshRollups(t.em(), { wait: true })).toMatchObject({ full: false, skipped: false });
    await expectExact(coordinator, { programmes: [programmes.a.id], places: ['a1', 'a2', 'gone'] });
    await expectExact(admin, { programmes: [programmes.a.id, programmes.b.id], places: ['a1', 'a2', 'b', 'gone'] });
    const recount = `SELECT programme_id, month, unit, currency, count(*)::int, sum(amount)::bigint FROM report_issue_months GROUP BY 1, 2, 3, 4`;
    expect(await em.execute(`(${recount} EXCEPT SELECT * FROM report_issue_month_totals) UNION ALL (SELECT * FROM report_issue_month_totals EXCEPT ${recount})`)).toEqual([]);
  });
});
