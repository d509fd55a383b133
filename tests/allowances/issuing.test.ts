import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllowanceBatch, AllowanceIssue, AllowanceLedgerEntry } from '../../src/allowances/index.ts';
import { type Agent, post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeProgramme, makeUser } from '../support/factories.ts';
import { keyOf, makeScheme, text, thisMonth } from './helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());


let nextPhone = 10_000;
/** A programme with `n` learners who all have Greek mobile numbers, and two coordinators. */
async function programmeWith(n: number) {
  const em = t.em();
  const c1 = await makeUser(em, 'coordinator');
  const c2 = await makeUser(em, 'coordinator');
  const learners = [];
  for (let i = 0; i < n; i++) learners.push(await makeUser(em, 'learner', { displayName: `Learner ${String(i).padStart(3, '0')}`, phone: `+3069120${nextPhone++}` }));
  const programme = await makeProgramme(em, [c1, c2]);
  const cohort = await makeCohort(em, programme, { learners });
  return { c1, c2, learners, programme, cohort };
}

async function issue(agent: Agent, schemeId: number, start = thisMonth()) {
  const page = await agent.get(`/allowances/schemes/${schemeId}/periods/${start}`);
  return post(agent, `/allowances/schemes/${schemeId}/periods/${start}/issue`, { key: keyOf(page.text)! });
}

describe('eligibility preview', () => {
  it('when the coordinator opens a period, then each learner is listed with eligibility, reason, phone, operator and the total against the budget', async () => {
    const em = t.em();
    const coordinator = await makeUser(em, 'coordinator');
    const jakarta = await makeUser(em, 'learner', { displayName: 'Ani Jakarta', phone: '+6281234567890', timeZone: 'Asia/Jakarta' });
    const athens = await makeUser(em, 'learner', { displayName: 'Bashir Athens', phone: '+306912345001' });
    const noPhone = await makeUser(em, 'learner', { displayName: 'Chiara No Phone' });
    const landline = await makeUser(em, 'learner', { displayName: 'Dawit Landline', phone: '+302101234567' });
    const off = await makeUser(em, 'learner', { displayName: 'Elif Switched Off', phone: '+306912345002', active: false });
    const programme = await makeProgramme(em, [coordinator]);
    await makeCohort(em, programme, { learners: [jakarta, athens, noPhone, landline, off] });
    const scheme = await makeScheme(t, coordinator, programme.id, { amount: 500, budget: 10_000 });

    const agent = await signIn(t.app, coordinator.username);
    const page = await agent.get(`/allowances/schemes/${scheme.id}/periods/${thisMonth()}`);
    expect(page.status).toBe(200);
    const body = text(page.text);
    expect(body).toMatch(/Ani Jakarta .*Eligible Enrolled and active\. \+62 812 3456 7890 Telkomsel 500 MB/);
    expect(body).toMatch(/Bashir Athens .*Eligible .*\+30 691 234 5001 unknown 500 MB/);
    expect(body).toContain('Chiara No Phone');
    expect(body).toMatch(/Chiara No Phone .*Blocked Enrolled and active\. No phone number in the learner's profile\./);
    expect(body).toMatch(/Dawit Landline .*Blocked .*The phone number is not a mobile number/);
    expect(body).toMatch(/Elif Switched Off .*Not eligible The account is switched off\./);
    expect(body).toContain('2 learners, 1,000 MB');
    expect(body).toContain('Budget left 10,000 MB');
    expect(body).toContain('Issue to 2 learners');
  });
});

describe('issuing a batch', () => {
  it('when two coordinators issue the same period at the same moment, then every learner receives exactly one allowance', async () => {
    const { c1, c2, learners, programme } = await programmeWith(40);
    const scheme = await makeScheme(t, c1, programme.id);
    const [a, b] = await Promise.all([signIn(t.app, c1.username), signIn(t.app, c2.username)]);
    const [pageA, pageB] = await Promise.all([a.get(`/allowances/schemes/${scheme.id}/periods/${thisMonth()}`), b.get(`/allowances/schemes/${scheme.id}/periods/${thisMonth()}`)]);
    const url = `/allowances/schemes/${scheme.id}/periods/${thisMonth()}/issue`;
    const [ra, rb] = await Promise.all([post(a, url, { key: keyOf(pageA.text)! }), post(b, url, { key: keyOf(pageB.text)! })]);
    expect([ra.status, rb.status]).toEqual([303, 303]);
    const issues = await t.em().find(AllowanceIssue, { scheme: scheme.id });
    expect(issues).toHaveLength(learners.length);
    expect(new Set(issues.map((i) => i.learner.id)).size).toBe(learners.length);
    expect(await t.em().count(AllowanceBatch, { scheme: scheme.id })).toBe(1);
    // One of them made the batch; the other was told there was nobody left.
    const locations = [ra.headers.location, rb.headers.location].sort();
    expect(locations[0]).toMatch(/^\/allowances\/batches\/\d+$/);
    expect(locations[1]).toBe(`/allowances/schemes/${scheme.id}/periods/${thisMonth()}`);
    const told = await (ra.headers.location === locations[1] ? a : b).get(locations[1]!);
    expect(told.text).toContain('Every eligible learner already has this period');
  });

  it('when the same form is sent twice at once (a double click), then both answers lead to the one batch it made', async () => {
    const { c1, learners, programme } = await programmeWith(15);
    const scheme = await makeScheme(t, c1, programme.id);
    const agent = await signIn(t.app, c1.username);
    const page = await agent.get(`/allowances/schemes/${scheme.id}/periods/${thisMonth()}`);
    const url = `/allowances/schemes/${scheme.id}/periods/${thisMonth()}/issue`;
    const key = keyOf(page.text)!;
    const [r1, r2] = await Promise.all([post(agent, url, { key }), post(agent, url, { key })]);
    expect(r1.headers.location).toMatch(/^\/allowances\/batches\/\d+$/);
    expect(r2.headers.location).toBe(r1.headers.location);
    expect(await t.em().count(AllowanceIssue, { scheme: scheme.id })).toBe(learners.length);
    const retry = await post(agent, url, { key });
    expect(retry.headers.location).toBe(r1.headers.location);
    expect(text((await agent.get(retry.headers.location!)).text)).toContain('This batch had already been issued; nothing was issued twice.');
  });

  it('when the budget runs out in the middle of a batch, then it stops cleanly, says so, and later issues add nothing', async () => {
    const { c1, learners, programme } = await programmeWith(5);
    const scheme = await makeScheme(t, c1, programme.id, { amount: 500, budget: 1200 });
    const agent = await signIn(t.app, c1.username);
    const preview = text((await agent.get(`/allowances/schemes/${scheme.id}/periods/${thisMonth()}`)).text);
    expect(preview).toContain('The budget left covers 2 of the 5 eligible learners, in the order listed; 1,300 MB is missing.');
    const res = await issue(agent, scheme.id);
    const batchPage = text((await agent.get(res.headers.location!)).text);
    expect(batchPage).toContain('The budget for this period ran out: 2 allowances were issued and 3 eligible learners received nothing.');
    const issued = await t.em().find(AllowanceIssue, { scheme: scheme.id }, { populate: ['learner'] });
    // In the order the preview lists them.
    expect(issued.map((i) => i.learner.getEntity().displayName).sort()).toEqual([learners[0]!.displayName, learners[1]!.displayName]);
    const [row] = (await t.em().execute('SELECT sum(amount)::int AS total FROM allowance_ledger WHERE scheme_id = ?', [scheme.id])) as { total: number }[];
    expect(row!.total).toBe(1000);

    // The page no longer offers the button; a form kept open from before is sent anyway.
    expect(keyOf((await agent.get(`/allowances/schemes/${scheme.id}/periods/${thisMonth()}`)).text)).toBeUndefined();
    const again = await post(agent, `/allowances/schemes/${scheme.id}/periods/${thisMonth()}/issue`, { key: crypto.randomUUID() });
    expect(again.headers.location).toBe(`/allowances/schemes/${scheme.id}/periods/${thisMonth()}`);
    expect(text((await agent.get(again.headers.location!)).text)).toContain('The budget for this period is spent: nothing was issued, and 3 eligible learners received nothing.');
    expect(await t.em().count(AllowanceIssue, { scheme: scheme.id })).toBe(2);
  });

  it('when a period has not begun, then it can be previewed but not issued', async () => {
    const { c1, programme } = await programmeWith(2);
    const scheme = await makeScheme(t, c1, programme.id);
    const next = new Date();
    next.setUTCDate(1);
    next.setUTCMonth(next.getUTCMonth() + 1);
    const start = next.toISOString().slice(0, 10);
    const agent = await signIn(t.app, c1.username);
    const page = await agent.get(`/allowances/schemes/${scheme.id}/periods/${start}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('This period has not begun yet');
    expect(keyOf(page.text)).toBeUndefined();
    const res = await post(agent, `/allowances/schemes/${scheme.id}/periods/${start}/issue`, { key: crypto.randomUUID() });
    expect(res.status).toBe(409);
    expect(await t.em().count(AllowanceIssue, { scheme: scheme.id })).toBe(0);
  });

  it('when a date that starts no period is asked for, then the page is not found', async () => {
    const { c1, programme } = await programmeWith(1);
    const scheme = await makeScheme(t, c1, programme.id);
    const agent = await signIn(t.app, c1.username);
    expect((await agent.get(`/allowances/schemes/${scheme.id}/periods/${thisMonth().slice(0, 8)}15`)).status).toBe(404);
    expect((await agent.get(`/allowances/schemes/${scheme.id}/periods/not-a-date`)).status).toBe(404);
  });

  it('when airtime is issued, then amounts are shown in the currency and the ledger records what each learner got', async () => {
    const { c1, learners, programme } = await programmeWith(2);
    const scheme = await makeScheme(t, c1, programme.id, { unit: 'airtime', currency: 'EUR', amount: 500, budget: 5000 });
    const agent = await signIn(t.app, c1.username);
    const res = await issue(agent, scheme.id);
    const page = text((await agent.get(res.headers.location!)).text);
    expect(page).toContain('€5.00');
    const entries = await t.em().find(AllowanceLedgerEntry, { scheme: scheme.id, kind: 'issued' });
    expect(entries.map((e) => [e.learner.id, e.amount, e.currency]).sort()).toEqual(learners.map((l) => [l.id, 500, 'EUR']).sort());
  });
});
