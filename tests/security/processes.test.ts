/**
 * WEB_CONCURRENCY=2: two worker processes share one port (node:cluster) and keep no state of
 * their own. Each client below is pinned to one worker (a kept-alive connection; the answer's
 * X-Dars-Worker header says which), so a test decides which process serves what: a session made
 * on one is valid on the other, signing out on one ends it on both, two coordinators issuing the
 * same allowance period on two workers at once pay each learner once, and the data each worker
 * meters for a learner adds up to exactly the bytes the learner received.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toActor, type User } from '../../src/accounts/index.ts';
import { createScheme } from '../../src/allowances/schemes.service.ts';
import { entities } from '../../src/entities.ts';
import { openOrm } from '../../src/platform/database.ts';
import { FormClient, kill, startServer, type StartedServer } from '../faults/support.ts';
import { cloneDatabase } from '../support/app.ts';
import { PASSWORD, makeCohort, makeCourse, makeProgramme, makeUser } from '../support/factories.ts';

const LEARNERS = 30;

let server: StartedServer;
let db: pg.Client;
let workers: string[];
let coordinators: User[];
let learners: User[];
let meteredLearner: User;
const schemes: number[] = [];

beforeAll(async () => {
  const databaseUrl = await cloneDatabase();
  const orm = await openOrm(databaseUrl, entities, { poolMax: 2 });
  const em = orm.em.fork();
  coordinators = [await makeUser(em, 'coordinator'), await makeUser(em, 'coordinator')];
  learners = [];
  for (let i = 0; i < LEARNERS; i++) learners.push(await makeUser(em, 'learner', { phone: `+30691300${String(1000 + i)}` }));
  meteredLearner = await makeUser(em, 'learner');
  const programme = await makeProgramme(em, coordinators);
  await makeCohort(em, programme, { learners: [...learners, meteredLearner] });
  const yearAgo = `${new Date().getUTCFullYear() - 1}-01-01`;
  for (const name of ['Data for the race', 'Data for the double tap']) {
    const scheme = await createScheme(orm.em.fork(), toActor(coordinators[0]!), programme.id, {
      name,
      unit: 'megabytes',
      currency: null,
      amount: 500,
      period: 'monthly',
      startsOn: yearAgo,
      budget: 1_000_000,
      rule: 'enrolled',
      threshold: 1,
      cohortIds: [],
      siteIds: [],
      note: undefined,
    });
    schemes.push(scheme.id);
  }
  // A course in the database: the primary does not import the shipped courses at start.
  await makeCourse(em);
  await orm.close();
  server = await startServer({ DATABASE_URL: databaseUrl, DATA_DIR: mkdtempSync(path.join(tmpdir(), 'dars-processes-')), WEB_CONCURRENCY: '2' });
  workers = await FormClient.workers(server.url, 2);
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
}, 120_000);

afterAll(async () => {
  if (server) await kill(server.child, 'SIGTERM');
  await db?.end();
});

/** Signs in (only the login form: no page of a signed-in person is fetched) and pins to `worker`. */
async function signedInOn(worker: string, user: User) {
  const client = new FormClient(server.url);
  await client.pin(worker);
  await client.page('/login');
  const res = await client.form('/login', { login: user.username, password: PASSWORD });
  expect(res.status).toBe(303);
  return client;
}

/** The same session, talking to another worker. */
async function onOtherWorker(client: FormClient, worker: string) {
  const twin = client.sameSession();
  await twin.pin(worker);
  return twin;
}

const thisMonth = () => `${new Date().toISOString().slice(0, 7)}-01`;
const keyOf = (html: string) => /name="key" value="([^"]+)"/.exec(html)?.[1];

/** The worker processes of the server under test (its database is external, so only workers). */
const workerPids = () =>
  new Promise<number[]>((resolve) => {
    const ps = spawn('pgrep', ['-P', String(server.child.pid)]);
    let out = '';
    ps.stdout.on('data', (d: Buffer) => (out += d.toString()));
    ps.on('close', () => resolve(out.trim().split('\n').filter(Boolean).map(Number)));
  });

describe('more than one process', () => {
  it('when two workers share the port, then a session made on one is valid on the other, and signing out on one ends it on both', async () => {
    expect(workers).toHaveLength(2);
    const [one, two] = workers as [string, string];
    const onOne = await signedInOn(one, learners[0]!);
    const onTwo = await onOtherWorker(onOne, two);
    const home = await onTwo.page('/');
    expect(onTwo.worker).toBe(two);
    expect(home.status).toBe(200);
    expect(home.text).toContain(learners[0]!.displayName);
    expect((await onOne.page('/profile')).status).toBe(200);
    expect(onOne.worker).toBe(one);

    const out = await onTwo.form('/logout', {});
    expect(out.status).toBe(303);
    const after = await onOne.request('GET', '/');
    expect(onOne.worker).toBe(one);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/login');
  });

  it('when a worker is killed, then another takes its place and the school keeps answering', async () => {
    const before = await FormClient.fresh(server.url).request('GET', '/healthz');
    expect(before.status).toBe(200);
    const pids = await workerPids();
    expect(pids.length).toBe(2);
    process.kill(pids[0]!, 'SIGKILL');
    // A connection already handed to the killed worker is lost with it; new ones go to the living.
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 10; i++) expect((await FormClient.fresh(server.url).request('GET', '/healthz')).status).toBe(200);
    const after = await workerPids();
    expect(after.length).toBe(2);
    expect(after).not.toContain(pids[0]);
    workers = await FormClient.workers(server.url, 2);
    expect(workers).toHaveLength(2);
  }, 60_000);

  it('when two coordinators issue the same period on two workers at the same moment, then each learner receives exactly one allowance', async () => {
    const [one, two] = workers as [string, string];
    const a = await signedInOn(one, coordinators[0]!);
    const b = await signedInOn(two, coordinators[1]!);
    const period = `/allowances/schemes/${schemes[0]}/periods/${thisMonth()}`;
    const [pageA, pageB] = [await a.page(period), await b.page(period)];
    const [ra, rb] = await Promise.all([a.form(`${period}/issue`, { key: keyOf(pageA.text)! }), b.form(`${period}/issue`, { key: keyOf(pageB.text)! })]);
    expect([a.worker, b.worker]).toEqual([one, two]);
    expect([ra.status, rb.status]).toEqual([303, 303]);
    const { rows } = await db.query('SELECT count(*)::int AS issues, count(DISTINCT learner_id)::int AS learners FROM allowance_issues WHERE scheme_id = $1', [schemes[0]]);
    expect(rows[0]).toEqual({ issues: LEARNERS, learners: LEARNERS });
    const batches = await db.query('SELECT count(*)::int AS n FROM allowance_batches WHERE scheme_id = $1', [schemes[0]]);
    expect(batches.rows[0].n).toBe(1);
    const ledger = await db.query('SELECT count(*)::int AS n, sum(amount)::int AS total FROM allowance_ledger WHERE scheme_id = $1', [schemes[0]]);
    expect(ledger.rows[0]).toEqual({ n: LEARNERS, total: LEARNERS * 500 });
  });

  it('when one issue form is sent to both workers at once (a double tap), then both answers lead to the one batch it made', async () => {
    const [one, two] = workers as [string, string];
    const a = await signedInOn(one, coordinators[0]!);
    const period = `/allowances/schemes/${schemes[1]}/periods/${thisMonth()}`;
    const key = keyOf((await a.page(period)).text)!;
    const twin = await onOtherWorker(a, two);
    const [r1, r2] = await Promise.all([a.form(`${period}/issue`, { key }), twin.form(`${period}/issue`, { key })]);
    expect([a.worker, twin.worker]).toEqual([one, two]);
    expect(r1.headers.get('location')).toMatch(/^\/allowances\/batches\/\d+$/);
    expect(r2.headers.get('location')).toBe(r1.headers.get('location'));
    const { rows } = await db.query('SELECT count(*)::int AS n FROM allowance_issues WHERE scheme_id = $1', [schemes[1]]);
    expect(rows[0].n).toBe(LEARNERS);
  });

  // Last: it stops the server, which is what makes each worker write its counters.
  it('when a learner is served by both workers, then the data each metered adds up to exactly the bytes the learner received', async () => {
    const [one, two] = workers as [string, string];
    const onOne = await signedInOn(one, meteredLearner);
    const onTwo = await onOtherWorker(onOne, two);
    onOne.received = 0;
    for (let i = 0; i < 5; i++) {
      for (const client of [onOne, onTwo]) {
        const page = await client.page(i % 2 ? '/profile' : '/');
        expect(page.status).toBe(200);
        // The stylesheet is served before the session is read: the meter knows it by the cookie.
        if (i === 0) await (await client.request('GET', /href="(\/assets\/[^"]+\.css)"/.exec(page.text)![1]!)).arrayBuffer();
      }
    }
    expect([onOne.worker, onTwo.worker]).toEqual([one, two]);
    const received = onOne.received + onTwo.received;
    await kill(server.child, 'SIGTERM');
    const { rows } = await db.query('SELECT coalesce(sum(bytes), 0)::int AS bytes FROM data_usage WHERE learner_id = $1', [meteredLearner.id]);
    console.log(`metering over two workers: ${received} bytes received by the learner, ${rows[0].bytes} bytes counted`);
    expect(rows[0].bytes).toBe(received);
  }, 60_000);
});
