/**
 * Sessions end when they should, forms change only what they show, and a server error tells
 * nothing about the server: signing out makes the old cookie worthless, switching an account off
 * or resetting its password ends every session it has, extra form fields (role=admin and the
 * like) are ignored or refused, and a failing page carries no stack trace.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../../src/accounts/index.ts';
import { anonymous, post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { PASSWORD, makeSchool, makeUser } from '../support/factories.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof makeSchool>>;
beforeAll(async () => {
  t = await bootApp();
  s = await makeSchool(t.em());
});
afterAll(() => t.close());

const cookieOf = (res: request.Response) => String((res.headers['set-cookie'] as unknown as string[] | undefined)?.find((c) => c.startsWith('dars.sid=')) ?? '').split(';')[0]!;

/** A session cookie for `username`, made through the sign-in form. */
async function sessionCookie(username: string) {
  const agent = await anonymous(t.app);
  const res = await post(agent, '/login', { login: username, password: PASSWORD });
  expect(res.status).toBe(303);
  return cookieOf(res);
}

const signedIn = async (cookie: string) => (await request(t.app).get('/profile').set('Cookie', cookie)).status === 200;

describe('sessions end when they should', () => {
  it('when a person signs out, then the old session cookie is worth nothing even when sent again', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const cookie = await sessionCookie(learner.username);
    expect(await signedIn(cookie)).toBe(true);
    const page = await request(t.app).get('/profile').set('Cookie', cookie);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const out = await request(t.app).post('/logout').set('Cookie', cookie).type('form').send({ _csrf: csrf });
    expect(out.status).toBe(303);
    const replay = await request(t.app).get('/profile').set('Cookie', cookie);
    expect(replay.status).toBe(303);
    expect(replay.headers.location).toBe('/login');
  });

  it('when an account is switched off, then every session it has ends at once and it cannot sign in again', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const [phone, laptop] = [await sessionCookie(learner.username), await sessionCookie(learner.username)];
    const admin = await signIn(t.app, s.admin.username);
    expect((await post(admin, `/users/${learner.id}/active`, { active: 'no' })).status).toBe(303);
    expect(await signedIn(phone)).toBe(false);
    expect(await signedIn(laptop)).toBe(false);
    const { rows } = await t.pool.query(`SELECT count(*)::int AS n FROM session WHERE sess::text LIKE $1`, [`%"userId":${learner.id}%`]);
    expect(rows[0].n).toBe(0);
    const again = await post(await anonymous(t.app), '/login', { login: learner.username, password: PASSWORD });
    expect(again.status).not.toBe(303);
  });

  it('when a coordinator resets a learner’s password, then the sessions made with the old one end', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const cookie = await sessionCookie(learner.username);
    const admin = await signIn(t.app, s.admin.username);
    expect((await post(admin, `/users/${learner.id}/reset-password`)).status).toBe(200);
    expect(await signedIn(cookie)).toBe(false);
  });
});

describe('forms change only what they show', () => {
  it('when a learner sends their profile with role, username, active and password fields added, then only the profile changes', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const before = await t.em().findOneOrFail(User, learner.id);
    const agent = await signIn(t.app, learner.username);
    const res = await post(agent, '/profile', {
      displayName: 'Nour Haddad',
      language: 'en',
      timeZone: 'UTC',
      role: 'admin',
      username: 'root',
      active: 'no',
      mustChangePassword: 'true',
      passwordHash: 'x',
      failedLogins: '99',
      createdBy: String(s.admin.id),
      id: String(s.admin.id),
    });
    expect(res.status).toBe(303);
    const after = await t.em().findOneOrFail(User, learner.id);
    expect(after.displayName).toBe('Nour Haddad');
    expect({ role: after.role, username: after.username, active: after.active, mustChangePassword: after.mustChangePassword, passwordHash: after.passwordHash, failedLogins: after.failedLogins }).toEqual({
      role: 'learner',
      username: before.username,
      active: true,
      mustChangePassword: false,
      passwordHash: before.passwordHash,
      failedLogins: before.failedLogins,
    });
    expect((await t.em().findOneOrFail(User, s.admin.id)).displayName).toBe(s.admin.displayName);
    expect((await agent.get('/users')).status).toBe(403);
  });

  it('when a coordinator creates an account as admin, or makes a learner an admin, then it is refused and nothing changes', async () => {
    const coordinator = await signIn(t.app, s.coordinatorA.username);
    const users = await t.em().count(User, {});
    const created = await post(coordinator, '/users', { username: 'sneaky-admin', displayName: 'Sneaky', role: 'admin', phone: '' });
    expect(created.status).toBe(403);
    expect(await t.em().count(User, {})).toBe(users);
    const promoted = await post(coordinator, `/users/${s.learnerA1.id}/role`, { role: 'coordinator' });
    expect(promoted.status).toBe(403);
    expect((await t.em().findOneOrFail(User, s.learnerA1.id)).role).toBe('learner');
  });

  it('when a coordinator creates a learner with extra fields (who made it, switched off, no password change), then the account gets the school’s defaults', async () => {
    const coordinator = await signIn(t.app, s.coordinatorA.username);
    const res = await post(coordinator, '/users', { username: 'new-learner-x', displayName: 'New Learner', role: 'learner', phone: '', createdBy: String(s.admin.id), active: 'no', mustChangePassword: 'false', failedLogins: '7' });
    expect(res.status).toBe(201);
    const user = await t.em().findOneOrFail(User, { username: 'new-learner-x' }, { populate: ['createdBy'] });
    expect(user.active).toBe(true);
    expect(user.mustChangePassword).toBe(true);
    expect(user.failedLogins).toBe(0);
    expect((user.createdBy as { id: number } | null)?.id).toBe(s.coordinatorA.id);
  });
});

describe('errors tell nothing about the server', () => {
  it('when a page fails inside the server, then a translated page answers with no stack trace, no error text and no file paths', async () => {
    const broken = await bootApp();
    try {
      const agent = await signIn(broken.app, (await makeUser(broken.em(), 'learner')).username);
      // The accounts table goes away (this test's own database): every signed-in page now fails inside the server.
      await broken.pool.query('ALTER TABLE users RENAME TO users_gone');
      const res = await agent.get('/').set('Accept-Language', 'fr');
      expect(res.status).toBe(500);
      expect(res.text).toContain('<html lang="fr"');
      expect(res.text).not.toMatch(/at \S+ \(|\.ts:\d+|node_modules|Error:|pool|MikroORM|\/work\//i);
    } finally {
      await broken.close().catch(() => {});
    }
  });
});
