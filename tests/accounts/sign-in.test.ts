import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { anonymous, csrfFrom, post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { PASSWORD, makeUser } from '../support/factories.ts';
import { User } from '../../src/accounts/index.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp({ LOGIN_MAX_FAILURES: '3' });
});
afterAll(() => t.close());

describe('signing in', () => {
  it('when a learner signs in with the right password, then a new session id is issued and home greets them', async () => {
    const learner = await makeUser(t.em(), 'learner', { displayName: 'Amina Yusuf' });
    const agent = await anonymous(t.app);
    const before = (await agent.get('/login')).headers['set-cookie'];
    const res = await post(agent, '/login', { login: learner.username.toUpperCase(), password: PASSWORD });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    const after = res.headers['set-cookie']?.[0] ?? '';
    expect(after).toMatch(/^dars\.sid=/);
    expect(after).toContain('HttpOnly');
    expect(after).toContain('SameSite=Lax');
    if (before) expect(after.split(';')[0]).not.toBe(String(before).split(';')[0]);
    const home = await agent.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('Hello, \u2068Amina Yusuf\u2069');
    expect(home.headers['cache-control']).toBe('no-store');
  });

  it('when someone signs in with their phone number typed with spaces, then it works like the username', async () => {
    const learner = await makeUser(t.em(), 'learner', { phone: '+306912000111' });
    const agent = await anonymous(t.app);
    const res = await post(agent, '/login', { login: '+30 691 200 0111', password: PASSWORD });
    expect(res.status).toBe(303);
    expect((await agent.get('/')).text).toContain(learner.displayName);
  });

  it('when the password is wrong, then the form says so, keeps the username and does not sign in', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const agent = await anonymous(t.app);
    const res = await post(agent, '/login', { login: learner.username, password: 'nope-nope' });
    expect(res.status).toBe(401);
    expect(res.text).toContain('The username or password is not right');
    expect(res.text).toContain(`value="${learner.username}"`);
    expect((await agent.get('/')).headers.location).toBe('/login');
  });

  it('when the password is wrong three times, then the account is locked even for the right password', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const agent = await anonymous(t.app);
    for (let i = 0; i < 2; i++) expect((await post(agent, '/login', { login: learner.username, password: 'wrong' })).status).toBe(401);
    const third = await post(agent, '/login', { login: learner.username, password: 'wrong' });
    expect(third.text).toContain('This account is locked for 15 minutes');
    const right = await post(agent, '/login', { login: learner.username, password: PASSWORD });
    expect(right.status).toBe(401);
    expect(right.text).toContain('locked');
  });

  it('when a user signs out, then their old session cookie no longer opens a page', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const agent = await signIn(t.app, learner.username);
    const res = await post(agent, '/logout');
    expect(res.status).toBe(303);
    expect((await agent.get('/profile')).headers.location).toBe('/login');
  });

  it('when a coordinator resets a password, then the learner signs in once with it and must choose a new one', async () => {
    const em = t.em();
    const coordinator = await makeUser(em, 'coordinator');
    const coordinatorAgent = await signIn(t.app, coordinator.username);
    const created = await post(coordinatorAgent, '/users', { username: 'new.learner', displayName: 'New Learner', role: 'learner' });
    expect(created.status).toBe(201);
    const otp = /id="otp">([a-z0-9]+)</.exec(created.text)![1]!;
    const learner = await anonymous(t.app);
    const first = await post(learner, '/login', { login: 'new.learner', password: otp });
    expect(first.headers.location).toBe('/account/password');
    expect((await learner.get('/')).headers.location).toBe('/account/password');
    const page = await learner.get('/account/password');
    learner.csrf = csrfFrom(page.text);
    const short = await post(learner, '/account/password', { newPassword: 'short', confirmPassword: 'short' });
    expect(short.status).toBe(422);
    expect(short.text).toContain('at least 8 characters');
    const ok = await post(learner, '/account/password', { newPassword: 'my-own-secret', confirmPassword: 'my-own-secret' });
    expect(ok.status).toBe(303);
    expect((await learner.get('/')).status).toBe(200);
  });

  it('when an account is switched off, then all its sessions end at once', async () => {
    const admin = await makeUser(t.em(), 'admin');
    const learner = await makeUser(t.em(), 'learner');
    const learnerAgent = await signIn(t.app, learner.username);
    const adminAgent = await signIn(t.app, admin.username);
    expect((await post(adminAgent, `/users/${learner.id}/active`, { active: 'no' })).status).toBe(303);
    expect((await learnerAgent.get('/')).headers.location).toBe('/login');
    const again = await post(await anonymous(t.app), '/login', { login: learner.username, password: PASSWORD });
    expect(again.status).toBe(401);
  });
});

describe('each role has its own home page', () => {
  it.each([
    ['learner', 'My classes'],
    ['teacher', 'My classes'],
    ['coordinator', 'My programmes'],
    ['admin', 'My programmes'],
  ] as const)('when a %s signs in, then home shows "%s"', async (role, heading) => {
    const user = await makeUser(t.em(), role);
    const agent = await signIn(t.app, user.username);
    const home = await agent.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain(heading);
  });

  it('when nobody is signed in, then home sends them to sign in', async () => {
    const res = await request(t.app).get('/');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login');
  });
});

describe('profile', () => {
  it('when the phone number is not valid, then the message stands beside it and the other answers are kept', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const agent = await signIn(t.app, learner.username);
    const res = await post(agent, '/profile', { displayName: 'Reza A.', language: 'fa', timeZone: 'Europe/Athens', phone: '12', birthYear: '1990' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('This is not a valid phone number');
    expect(res.text).toContain('value="Reza A."');
    expect(res.text).toContain('value="1990"');
  });

  it('when a learner saves their profile with extra fields such as role=admin, then only the profile changes', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const agent = await signIn(t.app, learner.username);
    const res = await post(agent, '/profile', { displayName: 'Reza', language: 'fa', timeZone: 'Asia/Jakarta', phone: '+62 812 3456 7890', role: 'admin', username: 'root', dataSaver: 'on', sex: 'male', nationality: 'AF', legalStatus: 'refugee', disability: 'no' });
    expect(res.status).toBe(303);
    const saved = await t.em().findOneOrFail(User, learner.id) as { role: string; username: string; phone: string; dataSaver: boolean; language: string; nationality: string };
    expect(saved.role).toBe('learner');
    expect(saved.username).toBe(learner.username);
    expect(saved.phone).toBe('+6281234567890');
    expect(saved.dataSaver).toBe(true);
    expect(saved.language).toBe('fa');
    const page = await agent.get('/profile');
    expect(page.text).toContain('dir="rtl"');
  });
});
