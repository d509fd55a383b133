import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeSchool } from '../support/factories.ts';
import { INVALID_UTF8_FORM, NUL, RTL_OVERRIDE, XSS, overlong } from '../fixtures/hostile/strings.ts';
import { User } from '../../src/accounts/index.ts';
import { Cohort } from '../../src/programmes/index.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof makeSchool>>;
beforeAll(async () => {
  t = await bootApp();
  s = await makeSchool(t.em());
});
afterAll(() => t.close());

const profile = (displayName: string) => ({ displayName, language: 'en', timeZone: 'UTC' });

describe('hostile text in fields shown to other people', () => {
  it.each(XSS)('when a learner names themselves %s, then their teacher and coordinator see it as plain text', async (payload) => {
    const learner = await signIn(t.app, s.learnerA1.username);
    expect((await post(learner, '/profile', profile(payload))).status).toBe(303);
    for (const [who, url] of [[s.teacherA.username, `/cohorts/${s.cohortA.id}`], [s.coordinatorA.username, '/users']] as const) {
      const page = await (await signIn(t.app, who)).get(url);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain(payload.replace(/"/g, '&quot;').includes('<') ? payload : '\u0000');
      expect(page.text).not.toMatch(/<script>alert|<img src=x|<svg\/onload/);
    }
  });

  it('when a coordinator names a class with markup, then the learner home shows it escaped', async () => {
    const coordinator = await signIn(t.app, s.coordinatorA.username);
    expect((await post(coordinator, `/programmes/${s.programmeA.id}/cohorts`, { name: XSS[1]! })).status).toBe(303);
    const cohort = (await t.em().findOneOrFail(Cohort, { name: XSS[1]! })) as { id: number };
    expect((await post(coordinator, `/cohorts/${cohort.id}/enrolments`, { username: s.learnerA2.username })).status).toBe(303);
    const home = await (await signIn(t.app, s.learnerA2.username)).get('/');
    expect(home.text).toContain('&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
    expect(home.text).not.toContain('<img src=x');
  });

  it('when a name carries a right-to-left override, then it is isolated so it cannot flip the text around it', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    expect((await post(learner, '/profile', profile(RTL_OVERRIDE))).status).toBe(303);
    const page = await (await signIn(t.app, s.teacherA.username)).get(`/cohorts/${s.cohortA.id}`);
    expect(page.text).toContain(`<bdi>${RTL_OVERRIDE}</bdi>`);
  });

  it('when a name is too long, then the form says how long it may be and keeps it', async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    const res = await post(learner, '/profile', profile(overlong(121)));
    expect(res.status).toBe(422);
    expect(res.text).toContain('Please use at most 120 characters.');
    expect(res.text).toContain(overlong(121));
  });

  it('when a field carries a NUL byte, then the form explains it and nothing is stored', async () => {
    const learner = await signIn(t.app, s.learnerB1.username);
    const res = await post(learner, '/profile', profile(NUL));
    expect([400, 422]).toContain(res.status);
    expect(res.text).toContain('characters');
    const saved = (await t.em().findOneOrFail(User, s.learnerB1.id)) as { displayName: string };
    expect(saved.displayName).toBe(s.learnerB1.displayName);
  });

  it('when a form arrives with bytes that are not UTF-8, then a clear message answers and nothing is stored', async () => {
    const learner = await signIn(t.app, s.learnerB1.username);
    const res = await learner
      .post('/profile')
      .type('form')
      .send(`_csrf=${learner.csrf}&${INVALID_UTF8_FORM('displayName')}&language=en&timeZone=UTC`);
    expect(res.status).toBe(400);
    expect(res.text).toContain('could not be read');
    const saved = (await t.em().findOneOrFail(User, s.learnerB1.id)) as { displayName: string };
    expect(saved.displayName).toBe(s.learnerB1.displayName);
  });
});
