/**
 * Handing allowances to the mobile operator and hearing back. A `TopUpAdapter` sends orders; the
 * default one, for operators' bulk top-up portals, turns them into a CSV file the coordinator
 * uploads there, and the portal's delivery report comes back as a confirmation CSV. An adapter
 * for a top-up API answers with delivered/failed straight away and goes through the same steps.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { Actor } from '../platform/actor.ts';
import { Conflict, NotFound } from '../platform/errors.ts';
import { AllowanceBatch, AllowanceIssue, AllowanceLedgerEntry, type AllowanceUnit } from './allowance.entity.ts';
import { schemesVisibleTo } from './allowances.policy.ts';
import { canChange, recordChange, referenceOf } from './ledger.ts';
import { checkPhone } from './phone.ts';

export interface TopUpOrder {
  reference: string;
  /** E.164 */
  phone: string;
  amount: number;
  unit: AllowanceUnit;
  currency: string | null;
  operator: string | null;
}

export interface TopUpOutcome {
  reference: string;
  /** `sent`: handed over, the answer comes later (a confirmation file). */
  status: 'sent' | 'delivered' | 'failed';
  operatorTransactionId?: string;
}

export interface TopUpAdapter {
  readonly name: string;
  send(orders: TopUpOrder[]): Promise<TopUpOutcome[]>;
}

/** The default: nothing leaves Dars by itself; the coordinator downloads the file and uploads it to the operator. */
export const csvAdapter: TopUpAdapter = {
  name: 'csv',
  send: async (orders) => orders.map((o) => ({ reference: o.reference, status: 'sent' as const })),
};

export const HANDOFF_COLUMNS = ['phone', 'amount', 'unit', 'reference'] as const;
export const CONFIRMATION_COLUMNS = ['reference', 'status', 'operator_transaction_id'] as const;

/** Amounts as operators' files write them: megabytes as a whole number, airtime in the currency's main unit ("5.00"). */
export function handoffAmount(amount: number, unit: AllowanceUnit, currency: string | null): { amount: string; unit: string } {
  if (unit === 'megabytes') return { amount: String(amount), unit: 'MB' };
  const digits = currencyDigits(currency!);
  return { amount: (amount / 10 ** digits).toFixed(digits), unit: currency! };
}

export function currencyDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

export async function getBatch(em: EntityManager, actor: Actor, id: number) {
  const batch = await em.findOne(AllowanceBatch, { $and: [{ id }, { scheme: schemesVisibleTo(actor) }] }, { populate: ['scheme', 'scheme.programme', 'version', 'createdBy'] });
  if (!batch) throw new NotFound();
  return batch;
}

/** An allowance of a batch the actor may see; anything else is not found. */
async function visibleIssue(em: EntityManager, actor: Actor, batchId: number, id: number) {
  const issue = await em.findOne(AllowanceIssue, { $and: [{ id, batch: batchId }, { scheme: schemesVisibleTo(actor) }] });
  if (!issue) throw new NotFound();
  return issue;
}

export async function issuesOf(em: EntityManager, batchId: number) {
  return em.find(AllowanceIssue, { batch: batchId }, { populate: ['learner'], orderBy: { id: 'asc' } });
}

/**
 * Hands every pending allowance of a batch to the adapter. The allowances are marked sent and
 * committed before the adapter is called: if Dars stops in between, they stay "sent" with their
 * reference, and the operator's report settles them; nothing is ever sent twice by a retry.
 */
export async function sendBatch(em: EntityManager, actor: Actor, adapter: TopUpAdapter, batchId: number) {
  await getBatch(em, actor, batchId);
  const handoff = randomUUID();
  const orders = await em.transactional(async (tx) => {
    const ids = (await tx.execute(`SELECT id FROM allowance_issues WHERE batch_id = ? AND status = 'pending' ORDER BY id FOR UPDATE`, [batchId])) as { id: number }[];
    if (ids.length === 0) return [];
    const issues = await tx.find(AllowanceIssue, { id: { $in: ids.map((r) => r.id) } }, { orderBy: { id: 'asc' }, refresh: true });
    const out = issues.map((issue) => markSent(tx, issue, 'sent', actor, handoff));
    await tx.flush();
    return out;
  });
  if (orders.length === 0) throw new Conflict('allowances:errors.nothingToSend');
  await settle(em, actor, await adapter.send(orders));
  return { handoff, count: orders.length };
}

/** A failed allowance goes out again, to the number now in the learner's profile. */
export async function resend(em: EntityManager, actor: Actor, adapter: TopUpAdapter, batchId: number, issueId: number) {
  await visibleIssue(em, actor, batchId, issueId);
  const handoff = randomUUID();
  const order = await em.transactional(async (tx) => {
    await tx.execute('SELECT id FROM allowance_issues WHERE id = ? FOR UPDATE', [issueId]);
    const issue = await tx.findOneOrFail(AllowanceIssue, issueId, { populate: ['learner'], refresh: true });
    if (!canChange(issue.status, 'resent')) throw new Conflict('allowances:errors.notFailed');
    const phone = checkPhone(issue.learner.getEntity().phone);
    if (!phone.ok) throw new Conflict(`allowances:phone.${phone.problem}`);
    issue.phone = phone.e164;
    issue.operator = phone.operator;
    const o = markSent(tx, issue, 'resent', actor, handoff);
    await tx.flush();
    return o;
  });
  await settle(em, actor, await adapter.send([order]));
  return { handoff };
}

function markSent(em: EntityManager, issue: AllowanceIssue, kind: 'sent' | 'resent', actor: Actor, handoff: string): TopUpOrder {
  issue.attempt += 1;
  const reference = referenceOf(issue);
  recordChange(em, issue, kind, actor, { why: { key: `allowances:why.${kind}`, vars: {} }, reference, handoff });
  return { reference, phone: issue.phone, amount: issue.amount, unit: issue.unit, currency: issue.currency ?? null, operator: issue.operator ?? null };
}

/** Records what an API adapter answered at once; `sent` answers wait for the confirmation file. */
async function settle(em: EntityManager, actor: Actor, outcomes: TopUpOutcome[]) {
  const final = outcomes.filter((o) => o.status !== 'sent');
  if (final.length === 0) return;
  await em.transactional(async (tx) => {
    for (const o of final) {
      const ref = parseReference(o.reference);
      if (!ref) continue;
      await tx.execute('SELECT id FROM allowance_issues WHERE id = ? FOR UPDATE', [ref.id]);
      const issue = await tx.findOneOrFail(AllowanceIssue, ref.id, { refresh: true });
      if (issue.attempt !== ref.attempt || issue.status !== 'sent') continue;
      applyConfirmation(tx, issue, o.status as 'delivered' | 'failed', o.operatorTransactionId ?? null, actor, 'allowances:why.api');
    }
    await tx.flush();
  });
}

function applyConfirmation(em: EntityManager, issue: AllowanceIssue, status: 'delivered' | 'failed', transactionId: string | null, actor: Actor, whyKey: string) {
  issue.operatorTransactionId = transactionId ?? issue.operatorTransactionId;
  recordChange(em, issue, status, actor, { why: { key: whyKey, vars: {} }, reference: referenceOf(issue), operatorTransactionId: transactionId });
}

export async function cancel(em: EntityManager, actor: Actor, batchId: number, issueId: number, note: string) {
  await visibleIssue(em, actor, batchId, issueId);
  return em.transactional(async (tx) => {
    await tx.execute('SELECT id FROM allowance_issues WHERE id = ? FOR UPDATE', [issueId]);
    const issue = await tx.findOneOrFail(AllowanceIssue, issueId, { refresh: true });
    if (!canChange(issue.status, 'cancelled')) throw new Conflict('allowances:errors.cannotCancel');
    recordChange(tx, issue, 'cancelled', actor, { why: { key: 'allowances:why.cancelled', vars: {} }, note });
    await tx.flush();
  });
}

/** The file of one hand-off, rebuilt from its ledger entries: the same bytes every time it is downloaded. */
export async function handoffFile(em: EntityManager, actor: Actor, batchId: number, handoff: string): Promise<string> {
  await getBatch(em, actor, batchId);
  const entries = await em.find(AllowanceLedgerEntry, { batch: batchId, handoff }, { populate: ['issue'], orderBy: { id: 'asc' } });
  if (entries.length === 0) throw new NotFound();
  const rows = entries.map((e) => {
    // A send moves no money (its entry's amount is 0); what was sent is the allowance's amount.
    const { amount, unit } = handoffAmount(e.issue.getEntity().amount, e.unit, e.currency ?? null);
    return [e.phone, amount, unit, e.reference];
  });
  return stringify([[...HANDOFF_COLUMNS], ...rows]);
}

/** The hand-offs of a batch, newest first, for the batch page. */
export async function handoffsOf(em: EntityManager, batchId: number) {
  const entries = await em.find(AllowanceLedgerEntry, { batch: batchId, handoff: { $ne: null } }, { populate: ['actor'], orderBy: { id: 'desc' } });
  const byHandoff = new Map<string, { handoff: string; at: Date; count: number; by: string }>();
  for (const e of entries) {
    const h = byHandoff.get(e.handoff!) ?? { handoff: e.handoff!, at: e.at, count: 0, by: e.actor.getEntity().displayName };
    h.count++;
    byHandoff.set(e.handoff!, h);
  }
  return [...byHandoff.values()];
}

export interface ConfirmationRow {
  row: number;
  reference: string;
  outcome: 'delivered' | 'failed' | 'unchanged' | 'problem';
  problem?: { key: string; vars?: Record<string, unknown> };
}

export interface ConfirmationReport {
  ok: boolean;
  /** A problem with the file as a whole (not CSV, wrong columns, empty). */
  fileProblem: { key: string; vars?: Record<string, unknown> } | null;
  rows: ConfirmationRow[];
  applied: number;
}

function parseReference(reference: string): { id: number; attempt: number } | null {
  const m = /^DARS-(\d{1,9})-(\d{1,4})$/.exec(reference);
  return m ? { id: Number(m[1]), attempt: Number(m[2]) } : null;
}

/**
 * Reads the operator's delivery report for a batch. Every row is checked first; if any row is
 * wrong, nothing changes and the report says which and why. Rows saying again what is already
 * recorded are harmless (a file uploaded twice changes nothing the second time).
 */
export async function importConfirmations(em: EntityManager, actor: Actor, batchId: number, csv: string): Promise<ConfirmationReport> {
  await getBatch(em, actor, batchId);
  const fail = (key: string, vars?: Record<string, unknown>): ConfirmationReport => ({ ok: false, fileProblem: { key, vars }, rows: [], applied: 0 });
  let records: Record<string, string>[];
  try {
    records = parse(csv.replace(/^\uFEFF/, ''), { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true });
  } catch (err) {
    return fail('allowances:confirm.malformed', { line: (err as { lines?: number }).lines ?? 1 });
  }
  if (records.length === 0) return fail('allowances:confirm.empty');
  const header = Object.keys(records[0]!);
  const missing = CONFIRMATION_COLUMNS.filter((c) => !header.includes(c));
  const unknown = header.filter((c) => !(CONFIRMATION_COLUMNS as readonly string[]).includes(c));
  if (missing.length || unknown.length) return fail('allowances:confirm.columns', { expected: CONFIRMATION_COLUMNS.join(', '), found: header.join(', ') });

  const refs = records.map((r) => parseReference(r.reference ?? ''));
  const ids = [...new Set(refs.filter((r) => r !== null).map((r) => r.id))];
  const issues = new Map((ids.length ? await em.find(AllowanceIssue, { id: { $in: ids } }, { refresh: true }) : []).map((i) => [i.id, i]));

  const seen = new Set<string>();
  const rows: ConfirmationRow[] = records.map((record, i) => {
    const row = i + 2; // the header is row 1
    const reference = record.reference ?? '';
    const problem = (key: string, vars?: Record<string, unknown>): ConfirmationRow => ({ row, reference, outcome: 'problem', problem: { key, vars } });
    const ref = refs[i];
    const issue = ref ? issues.get(ref.id) : undefined;
    if (!ref || !issue || issue.batch.id !== batchId) return problem('allowances:confirm.unknownReference');
    if (seen.has(reference)) return problem('allowances:confirm.duplicate');
    seen.add(reference);
    if (issue.attempt !== ref.attempt) return problem('allowances:confirm.oldAttempt');
    const status = (record.status ?? '').toLowerCase();
    if (status !== 'delivered' && status !== 'failed') return problem('allowances:confirm.status', { status: record.status ?? '' });
    const transactionId = (record.operator_transaction_id ?? '').slice(0, 101);
    if (transactionId.length > 100) return problem('allowances:confirm.transactionTooLong');
    if (status === 'delivered' && !transactionId) return problem('allowances:confirm.transactionMissing');
    if (issue.status === status && (status === 'failed' || issue.operatorTransactionId === transactionId)) return { row, reference, outcome: 'unchanged' };
    if (issue.status !== 'sent') return problem(`allowances:confirm.notWaiting.${issue.status}`);
    return { row, reference, outcome: status };
  });
  if (rows.some((r) => r.outcome === 'problem')) return { ok: false, fileProblem: null, rows, applied: 0 };

  const changes = rows.filter((r) => r.outcome === 'delivered' || r.outcome === 'failed');
  await em.transactional(async (tx) => {
    const changeIds = changes.map((r) => parseReference(r.reference)!.id);
    if (changeIds.length === 0) return;
    await tx.execute(`SELECT id FROM allowance_issues WHERE id IN (${changeIds.map(() => '?').join(',')}) ORDER BY id FOR UPDATE`, changeIds);
    const locked = new Map((await tx.find(AllowanceIssue, { id: { $in: changeIds } }, { refresh: true })).map((i) => [i.id, i]));
    for (const r of changes) {
      const ref = parseReference(r.reference)!;
      const issue = locked.get(ref.id)!;
      // Changed by someone else between the check and the lock: the whole file waits for a fresh look.
      if (issue.status !== 'sent' || issue.attempt !== ref.attempt) throw new Conflict('errors:conflict.body');
      const record = records[r.row - 2]!;
      applyConfirmation(tx, issue, r.outcome as 'delivered' | 'failed', record.operator_transaction_id || null, actor, `allowances:why.${r.outcome}`);
    }
    await tx.flush();
  });
  return { ok: true, fileProblem: null, rows, applied: changes.length };
}
