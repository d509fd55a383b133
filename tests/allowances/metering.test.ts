import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataUsage } from '../../src/allowances/index.ts';
import { signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { PASSWORD, makeUser } from '../support/factories.ts';
import { text } from './helpers.ts';

let t: TestApp;
let base: string;
beforeAll(async () => {
  t = await bootApp();
  base = (await t.listen()).url;
});
afterAll(() => t.close());

/** One request on its own connection; the answer is every byte that arrived on the socket. */
function fetchRaw(path: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let resHeaders: http.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    const req = http.request(`${base}${path}`, { agent: false, headers: { 'accept-encoding': 'gzip', connection: 'close', ...headers } }, (res) => {
      status = res.statusCode!;
      resHeaders = res.headers;
      res.on('data', (c: Buffer) => chunks.push(c));
    });
    req.on('socket', (socket) => socket.once('close', () => resolve({ status, bytes: socket.bytesRead, headers: resHeaders, body: Buffer.concat(chunks) })));
    req.on('error', reject);
    req.end();
  });
}

/** Signs in through the real form on the listening server; returns the session cookie. */
async function cookieFor(username: string) {
  const login = await fetchRaw('/login');
  const cookie = String(login.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
  const html = (await import('node:zlib')).gunzipSync(login.body).toString();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
  const body = new URLSearchParams({ _csrf: csrf, login: username, password: PASSWORD }).toString();
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(`${base}/login`, { method: 'POST', agent: false, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } }, resolve);
    req.on('error', reject);
    req.end(body);
  });
  res.resume();
  expect(res.statusCode).toBe(303);
  return String(res.headers['set-cookie']![0]).split(';')[0]!;
}

async function usageOf(learnerId: number) {
  await t.meter.flush();
  const rows = await t.em().find(DataUsage, { learner: learnerId });
  return { total: rows.reduce((s, r) => s + r.bytes, 0), rows };
}

describe('metering the data Dars sends to learners', () => {
  it('when a learner loads pages and the stylesheet with gzip, then the metered bytes match what the client received within 1%', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const cookie = await cookieFor(learner.username);
    const before = (await usageOf(learner.id)).total;
    let received = 0;
    const home = await fetchRaw('/', { cookie });
    expect(home.headers['content-encoding']).toBe('gzip');
    received += home.bytes;
    const css = /href="(\/assets\/dars\.[0-9a-f]+\.css)"/.exec((await import('node:zlib')).gunzipSync(home.body).toString())![1]!;
    for (const path of ['/profile', '/my/allowance', css, '/no-such-page', '/', '/my/allowance']) {
      const res = await fetchRaw(path, { cookie });
      expect(res.bytes).toBeGreaterThan(0);
      received += res.bytes;
    }
    const metered = (await usageOf(learner.id)).total - before;
    expect(Math.abs(metered - received) / received).toBeLessThan(0.01);
  });

  it('when many requests arrive, then they become one row per learner and day, not one per request', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const cookie = await cookieFor(learner.username);
    for (let i = 0; i < 10; i++) await fetchRaw('/my/allowance', { cookie });
    const { rows } = await usageOf(learner.id);
    expect(rows).toHaveLength(1);
  });

  it('when staff use Dars, then nothing is metered for them', async () => {
    const teacher = await makeUser(t.em(), 'teacher');
    const cookie = await cookieFor(teacher.username);
    await fetchRaw('/', { cookie });
    await fetchRaw('/profile', { cookie });
    expect((await usageOf(teacher.id)).rows).toHaveLength(0);
  });

  it('when another server records bytes for a learner (SCORM content), then they are added to the learner’s day in their own time zone', async () => {
    const learner = await makeUser(t.em(), 'learner', { timeZone: 'Asia/Jakarta' });
    // 23:30 UTC on 28 February is 06:30 on 1 March in Jakarta.
    t.meter.record(learner.id, 1_000_000, new Date('2026-02-28T23:30:00Z'));
    t.meter.record(learner.id, 500_000, new Date('2026-02-28T16:30:00Z'));
    await t.meter.flush();
    t.meter.record(learner.id, 250_000, new Date('2026-03-01T02:00:00Z'));
    const { rows } = await usageOf(learner.id);
    expect(rows.map((r) => [r.day, r.bytes]).sort()).toEqual([
      ['2026-02-28', 500_000],
      ['2026-03-01', 1_250_000],
    ]);
  });

  it('when bytes are recorded for someone who does not exist, then they are dropped and the rest is still written', async () => {
    const learner = await makeUser(t.em(), 'learner');
    t.meter.record(99_999_999, 1000);
    t.meter.record(learner.id, 1234);
    expect((await usageOf(learner.id)).total).toBe(1234);
  });

  it('when a learner opens their profile and home page, then they read how much of Dars they used this month', async () => {
    const learner = await makeUser(t.em(), 'learner');
    t.meter.record(learner.id, 46_000_000);
    await t.meter.flush();
    const agent = await signIn(t.app, learner.username);
    expect(text((await agent.get('/profile')).text)).toContain('You have used 46 MB of Dars this month.');
    expect(text((await agent.get('/')).text)).toContain('You have used 46 MB of Dars this month.');
  });
});
