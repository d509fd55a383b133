import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymous, post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeSchool } from '../support/factories.ts';
import { listRoutes } from '../support/routes.ts';
import { idorFixtures, type World } from './idor-fixtures.ts';

let t: TestApp;
let w: World;
beforeAll(async () => {
  t = await bootApp();
  w = await makeSchool(t.em());
});
afterAll(() => t.close());

/** Every GET page of the router, with parameters naming real records (an admin may see them all). */
async function pages() {
  const urls: string[] = [];
  for (const r of listRoutes(t.app).filter((r) => r.method === 'GET')) {
    const fixture = idorFixtures.find((f) => f.route === `GET ${r.path}`);
    if (r.path.includes(':') && (!fixture?.params || fixture.publicBecause)) continue;
    const params = fixture?.params ? await fixture.params(w, t.em()) : {};
    urls.push(r.path.replace(/:(\w+)/g, (_, n: string) => String(params[n])));
  }
  return urls;
}

function checkHeaders(url: string, res: request.Response, problems: string[]) {
  const h = res.headers;
  if (h['x-content-type-options'] !== 'nosniff') problems.push(`${url}: nosniff missing`);
  if (!h['content-security-policy']?.includes("default-src 'self'")) problems.push(`${url}: CSP missing`);
  if (!h['referrer-policy']) problems.push(`${url}: Referrer-Policy missing`);
  if (h['x-powered-by']) problems.push(`${url}: X-Powered-By present`);
  for (const cookie of (h['set-cookie'] as unknown as string[] | undefined) ?? []) {
    if (!/HttpOnly/i.test(cookie) || !/SameSite=Lax/i.test(cookie)) problems.push(`${url}: weak cookie ${cookie.split(';')[0]}`);
  }
  if (/at \S+\.ts:\d+:\d+/.test(res.text ?? '')) problems.push(`${url}: stack trace in the body`);
}

describe('headers and cookies on every response', () => {
  it('when an admin opens every page, then each carries the security headers and is never stored', async () => {
    const admin = await signIn(t.app, w.admin.username);
    const problems: string[] = [];
    for (const url of await pages()) {
      const res = await admin.get(url);
      checkHeaders(url, res, problems);
      if (String(res.headers['content-type']).startsWith('text/html') && res.headers['cache-control'] !== 'no-store') problems.push(`${url}: signed-in page without no-store`);
    }
    expect(problems).toEqual([]);
  });

  it('when nobody is signed in, then every page still carries the headers and no stack trace', async () => {
    const problems: string[] = [];
    for (const url of [...(await pages()), '/no-such-page', '/assets/nothing.css']) checkHeaders(url, await request(t.app).get(url), problems);
    expect(problems).toEqual([]);
    const refused = await request(t.app).post('/login').type('form').send({ login: 'someone', password: 'x' });
    expect(refused.status).toBe(403);
    expect(refused.headers['cache-control']).toBe('no-store');
  });

  it('when someone signs in, then the session id changes and the old one is worthless', async () => {
    const agent = await anonymous(t.app);
    const first = await agent.get('/login');
    const before = String(first.headers['set-cookie'] ?? '').split(';')[0];
    const res = await post(agent, '/login', { login: w.learnerA1.username, password: 'correct-horse-1' });
    const after = String(res.headers['set-cookie']).split(';')[0];
    expect(after).toMatch(/^dars\.sid=/);
    expect(after).not.toBe(before);
    if (before) {
      const replay = await request(t.app).get('/').set('Cookie', before);
      expect(replay.headers.location).toBe('/login');
    }
  });

  it('when a person signs out everywhere, then every one of their sessions ends', async () => {
    const phone = await signIn(t.app, w.learnerA2.username);
    const laptop = await signIn(t.app, w.learnerA2.username);
    expect((await post(laptop, '/logout', { everywhere: 'yes' })).status).toBe(303);
    expect((await phone.get('/')).headers.location).toBe('/login');
  });
});
