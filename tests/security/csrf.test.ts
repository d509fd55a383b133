import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeSchool } from '../support/factories.ts';
import { fill, listRoutes } from '../support/routes.ts';
import { isCsrfExempt } from '../../src/app.ts';
import { User } from '../../src/accounts/index.ts';

let t: TestApp;
let school: Awaited<ReturnType<typeof makeSchool>>;
beforeAll(async () => {
  t = await bootApp();
  school = await makeSchool(t.em());
});
afterAll(() => t.close());

describe('CSRF protection on every state-changing route', () => {
  it('when the router is read, then it has state-changing routes to check', () => {
    const mutating = listRoutes(t.app).filter((r) => r.method !== 'GET');
    expect(mutating.length).toBeGreaterThan(10);
  });

  it('when any state-changing route is called by a signed-in admin without a token, then it answers 403 and nothing changes', async () => {
    const agent = await signIn(t.app, school.admin.username);
    const before = await t.em().count(User, {});
    const failures: string[] = [];
    for (const route of listRoutes(t.app).filter((r) => r.method !== 'GET')) {
      if (isCsrfExempt({ method: route.method, path: fill(route.path, school.cohortA.id) })) continue;
      const url = fill(route.path, school.cohortA.id);
      const call = agent[route.method.toLowerCase() as 'post'](url).type('form').send({ username: 'intruder', displayName: 'x', role: 'admin', name: 'x', active: 'no' });
      const res = await call;
      if (res.status !== 403) failures.push(`${route.method} ${route.path} → ${res.status}`);
    }
    expect(failures).toEqual([]);
    expect(await t.em().count(User, {})).toBe(before);
    // The admin is still signed in and active: no request went through.
    expect((await agent.get('/')).status).toBe(200);
  });

  it('when a token from another session is sent, then the request is refused', async () => {
    const mallory = await signIn(t.app, school.learnerB1.username);
    const admin = await signIn(t.app, school.admin.username);
    const res = await admin.post(`/users/${school.learnerA1.id}/active`).type('form').send({ _csrf: mallory.csrf, active: 'no' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('This form was open too long or came from another site');
    const again = await post(admin, `/users/${school.learnerA1.id}/active`, { active: 'no' });
    expect(again.status).toBe(303);
  });
});
