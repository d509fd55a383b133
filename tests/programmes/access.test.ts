import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeSchool } from '../support/factories.ts';
import { User } from '../../src/accounts/index.ts';
import { Enrolment } from '../../src/programmes/index.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof makeSchool>>;
beforeAll(async () => {
  t = await bootApp();
  s = await makeSchool(t.em());
});
afterAll(() => t.close());

describe('who may see and change programmes, classes and people', () => {
  it('when a learner opens staff pages, then each answers 403', async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    for (const url of ['/programmes', `/programmes/${s.programmeA.id}`, `/cohorts/${s.cohortA.id}`, '/users', `/users/${s.learnerA2.id}`, '/users/new', `/cohorts/${s.cohortA.id}/import`]) {
      const res = await learner.get(url);
      expect(res.status, url).toBe(403);
      expect(res.text).toContain('You do not have permission');
    }
  });

  it('when a learner tries to change a class, then it is refused and nothing changes', async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    expect((await post(learner, `/cohorts/${s.cohortA.id}/enrolments`, { username: s.learnerB1.username })).status).toBe(403);
    expect((await post(learner, `/users/${s.learnerA2.id}/reset-password`)).status).toBe(403);
    expect(await t.em().count(Enrolment, { cohort: s.cohortA.id, learner: s.learnerB1.id })).toBe(0);
  });

  it('when a teacher opens their own class, then they see its learners; another class is 404', async () => {
    const teacher = await signIn(t.app, s.teacherA.username);
    const own = await teacher.get(`/cohorts/${s.cohortA.id}`);
    expect(own.status).toBe(200);
    expect(own.text).toContain(s.learnerA1.displayName);
    expect(own.text).not.toContain('Withdraw');
    expect((await teacher.get(`/cohorts/${s.cohortB.id}`)).status).toBe(404);
    expect((await teacher.get('/programmes')).status).toBe(403);
    expect((await post(teacher, `/cohorts/${s.cohortA.id}/enrolments`, { username: s.learnerB1.username })).status).toBe(403);
  });

  it("when a coordinator reaches into another programme's records by id, then every one answers 404", async () => {
    const coordinator = await signIn(t.app, s.coordinatorA.username);
    expect((await coordinator.get(`/programmes/${s.programmeA.id}`)).status).toBe(200);
    expect((await coordinator.get(`/programmes/${s.programmeB.id}`)).status).toBe(404);
    expect((await coordinator.get(`/cohorts/${s.cohortB.id}`)).status).toBe(404);
    expect((await coordinator.get(`/users/${s.learnerB1.id}`)).status).toBe(404);
    expect((await coordinator.get(`/users/${s.learnerA1.id}`)).status).toBe(200);
    expect((await post(coordinator, `/programmes/${s.programmeB.id}/cohorts`, { name: 'Sneaky' })).status).toBe(404);
    expect((await post(coordinator, `/users/${s.learnerB1.id}/reset-password`)).status).toBe(404);
    expect((await post(coordinator, `/cohorts/${s.cohortB.id}/enrolments`, { username: s.learnerA1.username })).status).toBe(404);
    const people = await coordinator.get('/users');
    expect(people.text).toContain(s.learnerA1.displayName);
    expect(people.text).not.toContain(s.learnerB1.displayName);
  });

  it('when a coordinator creates an account, then they cannot make an administrator', async () => {
    const coordinator = await signIn(t.app, s.coordinatorA.username);
    const res = await post(coordinator, '/users', { username: 'would.be.admin', displayName: 'X', role: 'admin' });
    expect(res.status).toBe(403);
    expect(await t.em().count(User, { username: 'would.be.admin' })).toBe(0);
  });

  it('when a coordinator adds a class and enrols a learner, then the learner sees the class at home', async () => {
    const coordinator = await signIn(t.app, s.coordinatorA.username);
    const created = await post(coordinator, `/programmes/${s.programmeA.id}/cohorts`, { name: 'English — Tuesday' });
    expect(created.status).toBe(303);
    const cohortUrl = created.headers.location!;
    const duplicate = await post(coordinator, `/programmes/${s.programmeA.id}/cohorts`, { name: 'English — Tuesday' });
    expect(duplicate.status).toBe(422);
    expect(duplicate.text).toContain('already has a class with this name');
    expect((await post(coordinator, `${cohortUrl}/enrolments`, { username: s.learnerA2.username })).status).toBe(303);
    const learner = await signIn(t.app, s.learnerA2.username);
    expect((await learner.get('/')).text).toContain('English — Tuesday');
  });

  it('when a learner types a joining code, then they join; a wrong code is explained', async () => {
    const learner = await signIn(t.app, s.learnerB1.username);
    const wrong = await post(learner, '/join', { code: 'ZZZZ99' });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain('No class has this code');
    expect(wrong.text).toContain('value="ZZZZ99"');
    const ok = await post(learner, '/join', { code: s.cohortA.enrolmentCode.toLowerCase() });
    expect(ok.status).toBe(303);
    expect((await learner.get('/')).text).toContain(s.cohortA.name);
  });

  it('when nobody is signed in, then staff pages send them to sign in', async () => {
    const res = await request(t.app).get('/programmes');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login');
  });
});
