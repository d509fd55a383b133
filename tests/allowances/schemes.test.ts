import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllowanceScheme, AllowanceSchemeVersion } from '../../src/allowances/index.ts';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeSchool } from '../support/factories.ts';
import { givePhone, text, thisMonth } from './helpers.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof makeSchool>>;
beforeAll(async () => {
  t = await bootApp();
  s = await makeSchool(t.em());
  await givePhone(t, s.learnerA1, '+306915000001');
});
afterAll(() => t.close());

const nextMonth = () => {
  const d = new Date(`${thisMonth()}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, 10);
};
const good = (over: Record<string, string | string[]> = {}) => ({
  name: 'Monthly data',
  unit: 'megabytes',
  amount: '500',
  period: 'monthly',
  startsOn: thisMonth(),
  budget: '10000',
  rule: 'enrolled',
  ...over,
});

describe('allowance schemes', () => {
  it('when the scheme form is wrong, then each problem is named beside its field, the answers are kept, and nothing is stored', async () => {
    const agent = await signIn(t.app, s.coordinatorA.username);
    const res = await post(agent, `/allowances/programmes/${s.programmeA.id}/schemes`, good({ name: 'Airtime for A1', unit: 'airtime', currency: '', amount: '700', budget: '300', rule: 'lessons', threshold: '', startsOn: '2026-02-30' }));
    expect(res.status).toBe(422);
    const page = text(res.text);
    expect(page).toContain("Please give the currency's three-letter code, for example EUR.");
    expect(page).toContain('Please give a date.');
    expect(res.text).toContain('value="Airtime for A1"');
    expect(res.text).toContain('value="700"');
    expect(await t.em().count(AllowanceScheme, {})).toBe(0);

    const again = await post(agent, `/allowances/programmes/${s.programmeA.id}/schemes`, good({ amount: '700', budget: '300', rule: 'lessons' }));
    expect(again.status).toBe(422);
    expect(text(again.text)).toContain('The budget must be at least the amount for one learner.');
    expect(text(again.text)).toContain('Please give N for this rule.');
    expect(await t.em().count(AllowanceScheme, {})).toBe(0);
  });

  it("when a cohort of another programme is slipped into the form, then it is refused and nothing is stored", async () => {
    const agent = await signIn(t.app, s.coordinatorA.username);
    const res = await post(agent, `/allowances/programmes/${s.programmeA.id}/schemes`, good({ cohortIds: [String(s.cohortB.id)] }));
    expect(res.status).toBe(422);
    expect(text(res.text)).toContain('Please choose one of the options.');
    expect(await t.em().count(AllowanceScheme, {})).toBe(0);
  });

  it('when a scheme is changed, then the change applies from the next period and the period under way keeps its terms', async () => {
    const agent = await signIn(t.app, s.coordinatorA.username);
    const other = await makeCohort(t.em(), s.programmeA);
    const created = await post(agent, `/allowances/programmes/${s.programmeA.id}/schemes`, good({ name: 'Changing data', cohortIds: [String(s.cohortA.id)] }));
    expect(created.status).toBe(303);
    const schemeUrl = created.headers.location!;
    const schemePage = text((await agent.get(schemeUrl)).text);
    expect(schemePage).toContain('The scheme “Changing data” was created.');
    expect(schemePage).toContain('500 MB a month');

    const form = await agent.get(`${schemeUrl}/change`);
    expect(form.text).toContain(`value="${nextMonth()}"`);
    // The form keeps the scheme's classes ticked.
    expect(form.text).toMatch(new RegExp(`value="${s.cohortA.id}" checked`));
    expect(form.text).not.toMatch(new RegExp(`value="${other.id}" checked`));

    const tooEarly = await post(agent, `${schemeUrl}/versions`, good({ amount: '800', budget: '20000', startsOn: thisMonth() }));
    expect(tooEarly.status).toBe(422);
    expect(text(tooEarly.text)).toContain(`A change can start on ${nextMonth()} at the earliest.`);
    expect(tooEarly.text).toContain('value="800"');

    const ok = await post(agent, `${schemeUrl}/versions`, good({ amount: '800', budget: '20000', startsOn: nextMonth(), note: 'Video lessons need more data' }));
    expect(ok.status).toBe(303);
    const id = Number(schemeUrl.split('/').pop());
    expect(await t.em().count(AllowanceSchemeVersion, { scheme: id })).toBe(2);
    expect(text((await agent.get(`${schemeUrl}/periods/${thisMonth()}`)).text)).toContain('500 MB a month');
    expect(text((await agent.get(`${schemeUrl}/periods/${nextMonth()}`)).text)).toContain('800 MB a month');
    const history = text((await agent.get(schemeUrl)).text);
    expect(history).toContain('Version 2');
    expect(history).toContain('Video lessons need more data');
  });
});
