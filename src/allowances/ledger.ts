/**
 * The allowance ledger: the only way an allowance changes. Each change sets the allowance's
 * status and writes a new entry saying who, when, what and why, in the same transaction. Entries
 * are never edited (the database refuses it); a cancellation is a new entry with the amount
 * reversed, and every total is a sum over entries.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/index.ts';
import type { Actor } from '../platform/actor.ts';
import { type AllowanceIssue, AllowanceLedgerEntry, type IssueStatus, type LedgerKind } from './allowance.entity.ts';
import type { Reason } from './eligibility.ts';

/** What each kind of entry does to the allowance and to the totals. */
const EFFECT: Record<LedgerKind, { to: IssueStatus; from: readonly IssueStatus[]; sign: 1 | 0 | -1 }> = {
  issued: { to: 'pending', from: [], sign: 1 },
  sent: { to: 'sent', from: ['pending'], sign: 0 },
  delivered: { to: 'delivered', from: ['sent'], sign: 0 },
  failed: { to: 'failed', from: ['sent'], sign: 0 },
  resent: { to: 'sent', from: ['failed'], sign: 0 },
  cancelled: { to: 'cancelled', from: ['pending', 'failed'], sign: -1 },
};

export function canChange(status: IssueStatus, kind: LedgerKind): boolean {
  return EFFECT[kind].from.includes(status);
}

export interface EntryDetails {
  why: Reason;
  note?: string | null;
  reference?: string | null;
  handoff?: string | null;
  operatorTransactionId?: string | null;
}

/** The operator reference of the allowance's current send. */
export function referenceOf(issue: Pick<AllowanceIssue, 'id' | 'attempt'>): string {
  return `DARS-${issue.id}-${issue.attempt}`;
}

/**
 * Moves an allowance to its next state and writes the entry. For `issued`, `issue` is the
 * allowance just created (status already pending). Callers hold the allowance's row lock.
 */
export function recordChange(em: EntityManager, issue: AllowanceIssue, kind: LedgerKind, actor: Actor, details: EntryDetails) {
  const effect = EFFECT[kind];
  if (kind !== 'issued') {
    if (!effect.from.includes(issue.status)) throw new Error(`allowance ${issue.id}: ${kind} is not possible from ${issue.status}`);
    issue.status = effect.to;
  }
  const sending = kind === 'sent' || kind === 'resent';
  return em.create(AllowanceLedgerEntry, {
    issue,
    // The allowance's own references: for a new allowance the batch has no id yet.
    batch: issue.batch,
    scheme: issue.scheme,
    learner: issue.learner,
    periodStart: issue.periodStart,
    kind,
    amount: effect.sign * issue.amount,
    unit: issue.unit,
    currency: issue.currency,
    statusAfter: issue.status,
    phone: sending ? issue.phone : null,
    reference: details.reference ?? null,
    handoff: details.handoff ?? null,
    operatorTransactionId: details.operatorTransactionId ?? null,
    whyKey: details.why.key,
    whyVars: details.why.vars,
    note: details.note ?? null,
    actor: em.getReference(User, actor.id),
  });
}

/** What a scheme has committed in a period: issued minus cancelled, from the ledger. */
export async function committedIn(em: EntityManager, schemeId: number, periodStart: string): Promise<number> {
  const [row] = (await em.execute('SELECT coalesce(sum(amount), 0)::bigint AS total FROM allowance_ledger WHERE scheme_id = ? AND period_start = ?', [schemeId, periodStart])) as { total: string }[];
  return Number(row?.total ?? 0);
}

export interface HistoryEntry {
  id: number;
  at: Date;
  kind: LedgerKind;
  amount: number;
  unit: AllowanceIssue['unit'];
  currency: string | null;
  statusAfter: IssueStatus;
  learner: { id: number; displayName: string };
  actor: { displayName: string };
  periodStart: string;
  scheme: string;
  batchId: number;
  reference: string | null;
  phone: string | null;
  operatorTransactionId: string | null;
  why: Reason;
  note: string | null;
}

/** Entries in the order they were written; `where` is a batch, a learner (within a programme) or a scheme. */
export async function history(em: EntityManager, where: { batch?: number; learner?: number; programme?: number }): Promise<HistoryEntry[]> {
  const filter: Record<string, unknown> = {};
  if (where.batch) filter.batch = where.batch;
  if (where.learner) filter.learner = where.learner;
  if (where.programme) filter.scheme = { programme: where.programme };
  const entries = await em.find(AllowanceLedgerEntry, filter, { populate: ['learner', 'actor', 'scheme'], orderBy: { id: 'asc' } });
  return entries.map((e) => ({
    id: e.id,
    at: e.at,
    kind: e.kind,
    amount: e.amount,
    unit: e.unit,
    currency: e.currency ?? null,
    statusAfter: e.statusAfter,
    learner: { id: e.learner.id, displayName: e.learner.getEntity().displayName },
    actor: { displayName: e.actor.getEntity().displayName },
    periodStart: e.periodStart,
    scheme: e.scheme.getEntity().name,
    batchId: e.batch.id,
    reference: e.reference ?? null,
    phone: e.phone ?? null,
    operatorTransactionId: e.operatorTransactionId ?? null,
    why: { key: e.whyKey, vars: e.whyVars },
    note: e.note ?? null,
  }));
}
