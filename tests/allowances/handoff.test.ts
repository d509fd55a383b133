import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllowanceIssue, AllowanceLedgerEntry } from '../../src/allowances/index.ts';
import { type Agent, post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeProgramme, makeUser } from '../support/factories.ts';
import { givePhone, keyOf, makeScheme, text, thisMonth } from './helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());

let phone = 20_000;
/** A batch of three issued allowances, sent to the operator, and the coordinator's agent. */
async function sentBatch(terms: Parameters<typeof makeScheme>[3] = {}) {
  const em = t.em();
  const coordinator = await makeUser(em, 'coordinator');
  const learners = [];
  for (let i = 0; i < 3; i++) learners.push(await makeUser(em, 'learner', { displayName: `Learner ${i}`, phone: `+3069130${phone++}` }));
  const programme = await makeProgramme(em, [coordinator]);
  await makeCohort(em, programme, { learners });
  const scheme = await makeScheme(t, coordinator, programme.id, terms);
  const agent = await signIn(t.app, coordinator.username);
  const page = await agent.get(`/allowances/schemes/${scheme.id}/periods/${thisMonth()}`);
  const issued = await post(agent, `/allowances/schemes/${scheme.id}/periods/${thisMonth()}/issue`, { key: keyOf(page.text)! });
  const batchUrl = issued.headers.location!;
  const sent = await post(agent, `${batchUrl}/send`);
  expect(sent.status).toBe(303);
  const issues = await t.em().find(AllowanceIssue, { batch: Number(batchUrl.split('/').pop()) }, { orderBy: { id: 'asc' } });
  return { agent, batchUrl, issues, learners, coordinator };
}

async function handoffCsv(agent: Agent, batchUrl: string, which = 0) {
  const page = await agent.get(batchUrl);
  const links = [...page.text.matchAll(/href="(\/allowances\/batches\/\d+\/handoffs\/[0-9a-f-]+)"/g)].map((m) => m[1]!);
  const res = await agent.get(links[which]!);
  expect(res.headers['content-type']).toContain('text/csv');
  return res.text;
}

function upload(agent: Agent, batchUrl: string, csv: string) {
  return agent.post(`${batchUrl}/confirmations?_csrf=${agent.csrf}`).attach('file', Buffer.from(csv), { filename: 'report.csv', contentType: 'text/csv' });
}

async function snapshot(batchUrl: string) {
  const batch = Number(batchUrl.split('/').pop());
  const issues = await t.em().find(AllowanceIssue, { batch }, { orderBy: { id: 'asc' } });
  return { statuses: issues.map((i) => `${i.status}:${i.operatorTransactionId ?? ''}`), entries: await t.em().count(AllowanceLedgerEntry, { batch }) };
}

describe('operator hand-off', () => {
  it('when a batch is sent, then the file for the operator lists phone in E.164, amount, unit and reference', async () => {
    const { agent, batchUrl, issues, learners } = await sentBatch();
    const csv = await handoffCsv(agent, batchUrl);
    expect(csv.trim().split('\n')).toEqual(['phone,amount,unit,reference', ...issues.map((i, n) => `${learners[n]!.phone},500,MB,DARS-${i.id}-1`)]);
    expect(issues.every((i) => i.status === 'sent')).toBe(true);
    // Downloading again gives the same file.
    expect(await handoffCsv(agent, batchUrl)).toBe(csv);
    expect((await post(agent, `${batchUrl}/send`)).status).toBe(409);
  });

  it.each([
    ['EUR', 250, '2.50'],
    ['IDR', 25_000, '25000'], // rupiah are written without decimals
  ])('when airtime in %s is handed off, then the amount is in the currency’s main unit', async (currency, amount, written) => {
    const { agent, batchUrl } = await sentBatch({ unit: 'airtime', currency, amount, budget: amount * 10 });
    const csv = await handoffCsv(agent, batchUrl);
    expect(csv.split('\n')[1]).toMatch(new RegExp(`^\\+\\d+,${written.replace('.', '\\.')},${currency},DARS-\\d+-1$`));
  });

  it('when the delivery report is imported, then allowances become delivered or failed with a per-row report and ledger entries', async () => {
    const { agent, batchUrl, issues } = await sentBatch();
    const [a, b, c] = issues;
    const csv = `reference,status,operator_transaction_id\nDARS-${a!.id}-1,delivered,OP-1\nDARS-${b!.id}-1,FAILED,\nDARS-${c!.id}-1,delivered,OP-3\n`;
    const res = await upload(agent, batchUrl, csv);
    expect(res.status).toBe(200);
    expect(text(res.text)).toContain('3 allowances were updated.');
    expect((await snapshot(batchUrl)).statuses).toEqual(['delivered:OP-1', 'failed:', 'delivered:OP-3']);
    const entries = await t.em().find(AllowanceLedgerEntry, { issue: a!.id }, { orderBy: { id: 'asc' } });
    expect(entries.map((e) => e.kind)).toEqual(['issued', 'sent', 'delivered']);
    expect(entries[2]!.operatorTransactionId).toBe('OP-1');

    // The same file again changes nothing.
    const before = await snapshot(batchUrl);
    const again = await upload(agent, batchUrl, csv.replace(`DARS-${b!.id}-1,FAILED,\n`, ''));
    expect(again.status).toBe(200);
    expect(text(again.text)).toContain('Already recorded; no change');
    expect(await snapshot(batchUrl)).toEqual(before);
  });

  it.each([
    ['not CSV at all', () => 'reference,status\n"unclosed,delivered\n'],
    ['the wrong columns', (r: string[]) => `ref,state,tx\n${r[0]},delivered,OP-1\n`],
    ['a reference from elsewhere among good rows', (r: string[]) => `reference,status,operator_transaction_id\n${r[0]},delivered,OP-1\nDARS-999999-1,delivered,OP-2\n`],
    ['a status the operator made up', (r: string[]) => `reference,status,operator_transaction_id\n${r[0]},delivered,OP-1\n${r[1]},maybe,OP-2\n`],
    ['a delivery without a transaction id', (r: string[]) => `reference,status,operator_transaction_id\n${r[0]},delivered,\n`],
    ['the same reference twice', (r: string[]) => `reference,status,operator_transaction_id\n${r[0]},delivered,OP-1\n${r[0]},failed,\n`],
    ['an empty file', () => 'reference,status,operator_transaction_id\n'],
  ])('when the delivery report has %s, then nothing changes and the report says why', async (_what, make) => {
    const { agent, batchUrl, issues } = await sentBatch();
    const before = await snapshot(batchUrl);
    const res = await upload(agent, batchUrl, make(issues.map((i) => `DARS-${i.id}-1`)));
    expect(res.status).toBe(422);
    expect(text(res.text)).toContain('Nothing was changed.');
    expect(await snapshot(batchUrl)).toEqual(before);
  });

  it('when a row is wrong, then the report names the row and the problem', async () => {
    const { agent, batchUrl, issues } = await sentBatch();
    const res = await upload(agent, batchUrl, `reference,status,operator_transaction_id\nDARS-${issues[0]!.id}-1,delivered,OP-1\nDARS-${issues[1]!.id}-1,maybe,\n`);
    expect(text(res.text)).toMatch(new RegExp(`3 DARS-${issues[1]!.id}-1 The status “maybe” is not delivered or failed\\.`));
  });

  it('when no file is chosen, then the batch page asks for one', async () => {
    const { agent, batchUrl } = await sentBatch();
    const res = await agent.post(`${batchUrl}/confirmations?_csrf=${agent.csrf}`).field('x', '1');
    expect(res.status).toBe(422);
    expect(text(res.text)).toContain("Please choose the operator's CSV file.");
  });
});

describe('failed allowances: sent again or cancelled', () => {
  it('when a failed allowance is sent again, then it gets a new reference, its own file, and a report of the old attempt is refused', async () => {
    const { agent, batchUrl, issues, learners } = await sentBatch();
    const failed = issues[0]!;
    await upload(agent, batchUrl, `reference,status,operator_transaction_id\nDARS-${failed.id}-1,failed,\n`);
    // The learner corrected their number meanwhile: the new send goes to it.
    await givePhone(t, learners[0]!, '+306939999999');
    expect((await post(agent, `${batchUrl}/issues/${failed.id}/resend`)).status).toBe(303);
    const csv = await handoffCsv(agent, batchUrl, 0);
    expect(csv.trim().split('\n')).toEqual(['phone,amount,unit,reference', `+306939999999,500,MB,DARS-${failed.id}-2`]);
    const stale = await upload(agent, batchUrl, `reference,status,operator_transaction_id\nDARS-${failed.id}-1,delivered,OP-9\n`);
    expect(text(stale.text)).toContain('This reference belongs to an earlier send of the allowance.');
    const fresh = await upload(agent, batchUrl, `reference,status,operator_transaction_id\nDARS-${failed.id}-2,delivered,OP-9\n`);
    expect(fresh.status).toBe(200);
    const kinds = (await t.em().find(AllowanceLedgerEntry, { issue: failed.id }, { orderBy: { id: 'asc' } })).map((e) => e.kind);
    expect(kinds).toEqual(['issued', 'sent', 'failed', 'resent', 'delivered']);
  });

  it('when a failed allowance is cancelled, then a reversing entry returns its amount to the budget and the history shows why', async () => {
    const { agent, batchUrl, issues, learners } = await sentBatch();
    const failed = issues[1]!;
    await upload(agent, batchUrl, `reference,status,operator_transaction_id\nDARS-${failed.id}-1,failed,\n`);
    const noReason = await post(agent, `${batchUrl}/issues/${failed.id}/cancel`, { note: '  ' });
    expect(noReason.status).toBe(422);
    expect(text(noReason.text)).toContain('Please say why the allowance is cancelled.');
    expect((await post(agent, `${batchUrl}/issues/${failed.id}/cancel`, { note: 'Learner moved to Germany' })).status).toBe(303);
    const entries = await t.em().find(AllowanceLedgerEntry, { issue: failed.id }, { orderBy: { id: 'asc' } });
    expect(entries.map((e) => [e.kind, e.amount])).toEqual([['issued', 500], ['sent', 0], ['failed', 0], ['cancelled', -500]]);
    const [row] = (await t.em().execute('SELECT sum(amount)::int AS total FROM allowance_ledger WHERE batch_id = ?', [failed.batch.id])) as { total: number }[];
    expect(row!.total).toBe(1000);
    const history = text((await agent.get(`/allowances/programmes/${(await programmeOf(failed.scheme.id))}/learners/${learners[1]!.id}`)).text);
    expect(history).toContain('Cancelled -500 MB');
    expect(history).toContain('Learner moved to Germany');
    expect(history).toContain('Given in all: 0 MB');
    // A delivered one cannot be cancelled.
    await upload(agent, batchUrl, `reference,status,operator_transaction_id\nDARS-${issues[0]!.id}-1,delivered,OP-1\n`);
    expect((await post(agent, `${batchUrl}/issues/${issues[0]!.id}/cancel`, { note: 'oops' })).status).toBe(409);
  });
});

describe('the ledger is append-only', () => {
  it('when anyone tries to UPDATE, DELETE or TRUNCATE ledger entries in SQL, then the database refuses', async () => {
    const { batchUrl } = await sentBatch();
    const before = await snapshot(batchUrl);
    await expect(t.pool.query('UPDATE allowance_ledger SET amount = 1000000 WHERE id = (SELECT min(id) FROM allowance_ledger)')).rejects.toThrow(/append-only/);
    await expect(t.pool.query("UPDATE allowance_ledger SET note = 'quiet fix'")).rejects.toThrow(/append-only: UPDATE is refused/);
    await expect(t.pool.query('DELETE FROM allowance_ledger')).rejects.toThrow(/append-only: DELETE is refused/);
    await expect(t.pool.query('TRUNCATE allowance_ledger CASCADE')).rejects.toThrow(/append-only: TRUNCATE is refused/);
    expect(await snapshot(batchUrl)).toEqual(before);
  });
});

async function programmeOf(schemeId: number) {
  const [row] = (await t.em().execute('SELECT programme_id FROM allowance_schemes WHERE id = ?', [schemeId])) as { programme_id: number }[];
  return row!.programme_id;
}
