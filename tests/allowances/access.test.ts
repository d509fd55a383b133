import { AllowanceLedgerEntry } from '../../src/allowances/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeSchool } from '../support/factories.ts';
import { givePhone, makeScheme, thisMonth } from './helpers.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof makeSchool>>;
let schemeA: number;
let batchA: number;
let issueA: number;
beforeAll(async () => {
  t = await bootApp();
  s = await makeSchool(t.em());
  await givePhone(t, s.learnerA1, '+306912000001');
  await givePhone(t, s.learnerA2, '+306912000002');
  schemeA = (await makeScheme(t, s.coordinatorA, s.programmeA.id, { rule: 'enrolled' })).id;
  const coordinator = await signIn(t.app, s.coordinatorA.username);
  const preview = await coordinator.get(`/allowances/schemes/${schemeA}/periods/${thisMonth()}`);
  const key = /name="key" value="([^"]+)"/.exec(preview.text)![1]!;
  const issued = await post(coordinator, `/allowances/schemes/${schemeA}/periods/${thisMonth()}/issue`, { key });
  if (issued.status !== 303) throw new Error(`${issued.status} ${issued.text.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").slice(0, 600)}`);
  batchA = Number(/\/allowances\/batches\/(\d+)/.exec(issued.headers.location!)![1]);
  const [row] = (await t.em().execute('SELECT id FROM allowance_issues WHERE batch_id = ? LIMIT 1', [batchA])) as { id: number }[];
  issueA = row!.id;
});
afterAll(() => t.close());

const pages = () => [
  '/allowances',
  `/allowances/programmes/${s.programmeA.id}/schemes/new`,
  `/allowances/schemes/${schemeA}`,
  `/allowances/schemes/${schemeA}/change`,
  `/allowances/schemes/${schemeA}/periods/${thisMonth()}`,
  `/allowances/batches/${batchA}`,
  `/allowances/programmes/${s.programmeA.id}/usage`,
  `/allowances/programmes/${s.programmeA.id}/learners/${s.learnerA1.id}`,
];

describe('only coordinators of the programme see or issue its allowances', () => {
  it('when a learner or a teacher opens any allowance page, then each answers 403', async () => {
    for (const user of [s.learnerA1, s.teacherA]) {
      const agent = await signIn(t.app, user.username);
      for (const url of pages()) expect((await agent.get(url)).status, `${user.role} ${url}`).toBe(403);
    }
  });

  it('when a learner or a teacher tries to issue, send or cancel, then it is refused and nothing changes', async () => {
    const before = await t.em().count(AllowanceLedgerEntry, {});
    for (const user of [s.learnerA1, s.teacherA]) {
      const agent = await signIn(t.app, user.username);
      expect((await post(agent, `/allowances/schemes/${schemeA}/periods/${thisMonth()}/issue`, { key: crypto.randomUUID() })).status).toBe(403);
      expect((await post(agent, `/allowances/batches/${batchA}/send`)).status).toBe(403);
      expect((await post(agent, `/allowances/batches/${batchA}/issues/${issueA}/cancel`, { note: 'x' })).status).toBe(403);
      expect((await post(agent, `/allowances/programmes/${s.programmeA.id}/schemes`, { name: 'Mine', unit: 'megabytes', amount: '1', period: 'weekly', startsOn: '2026-01-01', budget: '9', rule: 'enrolled' })).status).toBe(403);
    }
    expect(await t.em().count(AllowanceLedgerEntry, {})).toBe(before);
  });

  it("when another programme's coordinator reaches for these allowances by id, then every one answers 404 and nothing changes", async () => {
    const other = await signIn(t.app, s.coordinatorB.username);
    for (const url of pages().slice(1)) expect((await other.get(url)).status, url).toBe(404);
    const before = await t.em().count(AllowanceLedgerEntry, {});
    expect((await post(other, `/allowances/schemes/${schemeA}/periods/${thisMonth()}/issue`, { key: crypto.randomUUID() })).status).toBe(404);
    expect((await post(other, `/allowances/batches/${batchA}/send`)).status).toBe(404);
    expect((await post(other, `/allowances/batches/${batchA}/issues/${issueA}/cancel`, { note: 'mine now' })).status).toBe(404);
    expect((await post(other, `/allowances/schemes/${schemeA}/versions`, { unit: 'megabytes', amount: '1', period: 'weekly', startsOn: '2030-01-01', budget: '9', rule: 'enrolled' })).status).toBe(404);
    expect(await t.em().count(AllowanceLedgerEntry, {})).toBe(before);
    const list = await other.get('/allowances');
    expect(list.text).not.toContain(s.programmeA.name);
  });

  it('when an administrator who does not coordinate the programme looks, then its allowances are not theirs to see', async () => {
    const admin = await signIn(t.app, s.admin.username);
    expect((await admin.get(`/allowances/schemes/${schemeA}`)).status).toBe(404);
    expect((await admin.get(`/allowances/batches/${batchA}`)).status).toBe(404);
  });

  it("when the programme's coordinator opens every page, then each answers 200", async () => {
    const coordinator = await signIn(t.app, s.coordinatorA.username);
    for (const url of pages()) expect((await coordinator.get(url)).status, url).toBe(200);
  });

  it("when a learner opens their own allowance page, then they see their allowance and nobody else's", async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    const page = await learner.get('/my/allowance');
    expect(page.status).toBe(200);
    expect(page.text).toContain('My data allowance');
    expect(page.text).toContain('500 MB');
    expect(page.text).not.toContain(s.learnerA2.displayName);
    const coordinator = await signIn(t.app, s.coordinatorA.username);
    expect((await coordinator.get('/my/allowance')).status).toBe(403);
  });
});
