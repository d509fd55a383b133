/**
 * The eligibility preview of a period and issuing it as a batch. Issuing runs in one
 * transaction holding the scheme's row lock: eligibility, what is already paid, the budget and
 * the new allowances are all decided by one coordinator at a time, and the unique constraint on
 * (scheme, learner, period) stands behind it should anything else ever try.
 */
import type { FilterQuery } from '@mikro-orm/core';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/index.ts';
import type { Actor } from '../platform/actor.ts';
import { Conflict, NotFound } from '../platform/errors.ts';
import { type Cohort, Enrolment } from '../programmes/index.ts';
import { AllowanceBatch, AllowanceIssue, AllowanceScheme, AllowanceSchemeVersion, type IssueStatus } from './allowance.entity.ts';
import { type Candidate, type EligibilityFacts, type Reason, judge } from './eligibility.ts';
import { committedIn, recordChange } from './ledger.ts';
import { type Period, isPeriodStart, midnightIn, periodContaining, previousPeriod, todayIn } from './periods.ts';
import { checkPhone } from './phone.ts';
import { getScheme, versionAt } from './schemes.service.ts';

export type RowState = 'eligible' | 'blocked' | 'notEligible' | 'issued';

export interface PreviewRow {
  learnerId: number;
  displayName: string;
  username: string;
  cohorts: string[];
  state: RowState;
  reason: Reason;
  /** Why the phone number stops an eligible learner, when it does. */
  blockedBy: Reason | null;
  phone: string | null;
  e164: string | null;
  operator: string | null;
  country: string | null;
  issue: { id: number; status: IssueStatus; batchId: number } | null;
}

export interface Preview {
  scheme: AllowanceScheme;
  version: AllowanceSchemeVersion;
  period: Period;
  previous: Period;
  /** Whether the period has begun (in the coordinator's calendar); only then can it be issued. */
  started: boolean;
  rows: PreviewRow[];
  totals: {
    eligible: number;
    eligibleAmount: number;
    committed: number;
    budget: number;
    remaining: number;
    /** How many of the eligible learners the remaining budget covers, in the order listed. */
    fit: number;
    shortBy: number;
  };
}

export async function preview(em: EntityManager, actor: Actor, facts: EligibilityFacts, schemeId: number, periodStart: string, now = new Date()): Promise<Preview> {
  const { scheme, timeline } = await getScheme(em, actor, schemeId);
  if (!isPeriodStart(timeline, periodStart)) throw new NotFound();
  const period = periodContaining(timeline, periodStart)!;
  const version = versionAt(timeline, periodStart)!;
  const previous = previousPeriod(timeline, period);

  const candidates = await candidatesOf(em, scheme.programme.id, version, previous);
  const issued = await em.find(AllowanceIssue, { scheme, periodStart }, { populate: ['learner'] });
  const verdicts = await judge(em, facts, version, [...candidates.values()].map((c) => c.candidate), previous);

  const rows: PreviewRow[] = [];
  const issuedBy = new Map(issued.map((i) => [i.learner.id, i]));
  for (const { candidate, user, cohorts } of candidates.values()) {
    const verdict = verdicts.get(candidate.learnerId)!;
    const phone = checkPhone(user.phone);
    const issue = issuedBy.get(candidate.learnerId);
    const state: RowState = issue ? 'issued' : !verdict.eligible ? 'notEligible' : phone.ok ? 'eligible' : 'blocked';
    rows.push({
      learnerId: user.id,
      displayName: user.displayName,
      username: user.username,
      cohorts,
      state,
      reason: verdict.reason,
      blockedBy: verdict.eligible && !phone.ok ? { key: `allowances:phone.${phone.problem}`, vars: {} } : null,
      phone: phone.display,
      e164: phone.ok ? phone.e164 : null,
      operator: phone.ok ? phone.operator : null,
      country: phone.ok ? phone.country : null,
      issue: issue ? { id: issue.id, status: issue.status, batchId: issue.batch.id } : null,
    });
  }
  // Paid learners who have since left the scheme's cohorts still belong on the period's list.
  for (const issue of issued.filter((i) => !candidates.has(i.learner.id))) {
    const user = issue.learner.getEntity();
    rows.push({
      learnerId: user.id,
      displayName: user.displayName,
      username: user.username,
      cohorts: [],
      state: 'issued',
      reason: { key: 'allowances:reason.notEnrolled', vars: {} },
      blockedBy: null,
      phone: checkPhone(issue.phone).display,
      e164: issue.phone,
      operator: issue.operator ?? null,
      country: null,
      issue: { id: issue.id, status: issue.status, batchId: issue.batch.id },
    });
  }
  rows.sort((a, b) => a.displayName.localeCompare(b.displayName) || a.learnerId - b.learnerId);

  const committed = await committedIn(em, scheme.id, periodStart);
  const eligible = rows.filter((r) => r.state === 'eligible').length;
  const remaining = Math.max(0, version.budget - committed);
  const fit = Math.min(eligible, Math.floor(remaining / version.amount));
  return {
    scheme,
    version,
    period,
    previous,
    started: period.start <= todayIn(actor.timeZone, now),
    rows,
    totals: {
      eligible,
      eligibleAmount: eligible * version.amount,
      committed,
      budget: version.budget,
      remaining,
      fit,
      shortBy: Math.max(0, eligible * version.amount - remaining),
    },
  };
}

interface CandidateRecord {
  candidate: Candidate;
  user: User;
  cohorts: string[];
}

/**
 * Learners of the scheme's cohorts: active ones, and those who left since the previous period
 * began (listed as not eligible, so nobody wonders where they went).
 */
async function candidatesOf(em: EntityManager, programmeId: number, version: AllowanceSchemeVersion, previous: Period): Promise<Map<number, CandidateRecord>> {
  const cohort: FilterQuery<Cohort> = { programme: programmeId };
  const limits: FilterQuery<Cohort>[] = [];
  if (version.cohortIds.length) limits.push({ id: { $in: version.cohortIds } });
  if (version.siteIds.length) limits.push({ site: { $in: version.siteIds } });
  if (limits.length) cohort.$or = limits;
  const leftSince = midnightIn(previous.start, 'Pacific/Kiritimati'); // the earliest any zone begins that day
  const enrolments = await em.find(
    Enrolment,
    { cohort, learner: { role: 'learner' }, $or: [{ status: 'active' }, { status: 'withdrawn', withdrawnAt: { $gte: leftSince } }] },
    { populate: ['learner', 'cohort'] },
  );
  const out = new Map<number, CandidateRecord>();
  for (const e of enrolments) {
    const user = e.learner.getEntity();
    const record = out.get(user.id) ?? { candidate: { learnerId: user.id, timeZone: user.timeZone, active: user.active, enrolled: false }, user, cohorts: [] };
    if (e.status === 'active') {
      record.candidate.enrolled = true;
      record.cohorts.push(e.cohort.getEntity().name);
    }
    out.set(user.id, record);
  }
  for (const r of out.values()) r.cohorts.sort();
  return out;
}

export type IssueOutcome =
  | { kind: 'issued'; batchId: number; issued: number; leftOut: number }
  | { kind: 'repeated'; batchId: number }
  | { kind: 'nobodyLeft' }
  | { kind: 'budgetSpent'; leftOut: number };

/**
 * Issues the period's allowance to every eligible learner not yet paid, in the preview's order,
 * until the budget runs out. The same `key` again (a double click, a retry) answers with the
 * batch it made the first time; a second coordinator finds nobody left to pay.
 */
export async function issueBatch(em: EntityManager, actor: Actor, facts: EligibilityFacts, schemeId: number, periodStart: string, key: string, now = new Date()): Promise<IssueOutcome> {
  await getScheme(em, actor, schemeId);
  try {
    return await em.transactional(async (tx) => {
      const again = async () => {
        const batch = await tx.findOne(AllowanceBatch, { idempotencyKey: key });
        if (batch && batch.scheme.id !== schemeId) throw new NotFound();
        return batch;
      };
      const before = await again();
      if (before) return { kind: 'repeated', batchId: before.id } as const;
      // One issuer per scheme at a time. After the wait, every read below sees what the other wrote.
      await tx.execute('SELECT id FROM allowance_schemes WHERE id = ? FOR UPDATE', [schemeId]);
      const meanwhile = await again();
      if (meanwhile) return { kind: 'repeated', batchId: meanwhile.id } as const;

      const p = await preview(tx, actor, facts, schemeId, periodStart, now);
      if (!p.started) throw new Conflict('allowances:errors.notStarted');
      const eligible = p.rows.filter((r) => r.state === 'eligible');
      if (eligible.length === 0) return { kind: 'nobodyLeft' } as const;
      const paid = eligible.slice(0, p.totals.fit);
      if (paid.length === 0) return { kind: 'budgetSpent', leftOut: eligible.length } as const;

      const scheme = tx.getReference(AllowanceScheme, schemeId);
      const batch = tx.create(AllowanceBatch, {
        scheme,
        version: tx.getReference(AllowanceSchemeVersion, p.version.id),
        periodStart: p.period.start,
        periodEnd: p.period.end,
        idempotencyKey: key,
        issuedCount: paid.length,
        leftOutForBudget: eligible.length - paid.length,
        createdBy: tx.getReference(User, actor.id),
      });
      for (const row of paid) {
        const issue = tx.create(AllowanceIssue, {
          scheme,
          batch,
          learner: tx.getReference(User, row.learnerId),
          periodStart: p.period.start,
          amount: p.version.amount,
          unit: p.version.unit,
          currency: p.version.currency,
          phone: row.e164!,
          operator: row.operator,
          status: 'pending',
          attempt: 0,
        });
        recordChange(tx, issue, 'issued', actor, { why: row.reason });
      }
      await tx.flush();
      return { kind: 'issued', batchId: batch.id, issued: paid.length, leftOut: eligible.length - paid.length } as const;
    });
  } catch (err) {
    // Only reachable if something bypassed the lock; the constraint kept the money safe.
    if (err instanceof UniqueConstraintViolationException) throw new Conflict('allowances:errors.issuedMeanwhile');
    throw err;
  }
}

/** The issued allowances of a period (for the scheme page's period list). */
export async function issuedCounts(em: EntityManager, schemeId: number, periodStarts: string[]) {
  if (periodStarts.length === 0) return new Map<string, { count: number; amount: number }>();
  const rows = (await em.execute(
    `SELECT period_start::text AS period, count(DISTINCT issue_id) FILTER (WHERE kind = 'issued') AS count, coalesce(sum(amount), 0)::bigint AS amount
     FROM allowance_ledger WHERE scheme_id = ? AND period_start IN (${periodStarts.map(() => '?').join(',')}) GROUP BY period_start`,
    [schemeId, ...periodStarts],
  )) as { period: string; count: string; amount: string }[];
  return new Map(rows.map((r) => [r.period, { count: Number(r.count), amount: Number(r.amount) }]));
}

/** The latest batches of a scheme, newest first. */
export async function batchesOf(em: EntityManager, schemeId: number, limit = 20) {
  return em.find(AllowanceBatch, { scheme: schemeId }, { populate: ['createdBy'], orderBy: { id: 'desc' }, limit });
}
