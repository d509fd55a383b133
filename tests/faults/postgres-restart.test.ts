/**
 * PostgreSQL stops under load and comes back: the school says it is unavailable (503 on /healthz,
 * a translated error page) without dying, recovers by itself, and every write it answered as
 * stored is still there. The database is a PostgreSQL of this test's own (crash-safe settings),
 * stopped and started again on the same port and data folder.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entities } from '../../src/entities.ts';
import { ensureDatabase, migrate, openOrm } from '../../src/platform/database.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/platform/embedded-postgres.ts';
import { PASSWORD, makeCohort, makeProgramme, makeUser } from '../support/factories.ts';
import { FormClient, appOn } from './support.ts';

const LEARNERS = 16;

let dir: string;
let postgres: EmbeddedDatabase;
let port: number;
let url: string;
let app: Awaited<ReturnType<typeof appOn>>;
let base: string;
const learners: { id: number; username: string }[] = [];
const cohortCodes: { id: number; code: string }[] = [];

beforeAll(async () => {
  // Under /tmp and world-traversable: as root the server runs as the user `postgres`.
  dir = mkdtempSync(path.join(tmpdir(), 'dars-fault-pg-'));
  chmodSync(dir, 0o755);
  postgres = await startEmbeddedPostgres({ dir: path.join(dir, 'pg') });
  port = Number(new URL(postgres.url('postgres')).port);
  await ensureDatabase(postgres.url('postgres'), 'dars');
  url = postgres.url('dars');
  const orm = await openOrm(url, entities, { poolMax: 2 });
  await migrate(orm);
  const em = orm.em.fork();
  const programme = await makeProgramme(em);
  for (let i = 0; i < LEARNERS; i++) {
    const u = await makeUser(em, 'learner');
    learners.push({ id: u.id, username: u.username });
  }
  for (let i = 0; i < 40; i++) {
    const c = await makeCohort(em, programme);
    cohortCodes.push({ id: c.id, code: c.enrolmentCode });
  }
  await orm.close();
  app = await appOn(url, mkdtempSync(path.join(tmpdir(), 'dars-fault-data-')));
  base = await app.listen();
}, 120_000);

afterAll(async () => {
  await app?.close();
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Sent {
  displayName?: string;
  join?: { id: number; code: string };
  status: number | 'no answer';
}

describe('PostgreSQL restart under load', () => {
  it('when PostgreSQL stops and starts again, then the school answers 503 meanwhile, recovers by itself and keeps every answered write', async () => {
    const clients = await Promise.all(
      learners.map(async (l) => {
        const c = new FormClient(base);
        await c.signIn(l.username, PASSWORD);
        return c;
      }),
    );
    let running = true;
    const sent: Sent[][] = learners.map(() => []);
    const load = clients.map(async (c, i) => {
      for (let seq = 0; running; seq++) {
        const join = seq % 4 === 3 ? cohortCodes[(i * 7 + seq) % cohortCodes.length] : undefined;
        const entry: Sent = join ? { join, status: 'no answer' } : { displayName: `Learner ${i} save ${seq}`, status: 'no answer' };
        sent[i]!.push(entry);
        try {
          const res = join ? await c.form('/join', { code: join.code }) : await c.form('/profile', { displayName: entry.displayName!, language: 'en', timeZone: 'UTC', phone: '' });
          await res.arrayBuffer();
          entry.status = res.status;
          if (res.status !== 303) await new Promise((r) => setTimeout(r, 50));
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    });
    const answered = () => sent.flat().filter((s) => s.status === 303).length;
    const waitFor = async (what: () => boolean | Promise<boolean>, ms: number) => {
      const deadline = Date.now() + ms;
      while (!(await what())) {
        if (Date.now() > deadline) throw new Error('waited too long');
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    await waitFor(() => answered() >= 30, 15_000);
    const beforeStop = answered();
    await postgres.stop();

    // While it is down: 503 for the balancer, a translated page for people, and the process lives on.
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(503);
    const page = await clients[0]!.page('/profile');
    expect([500, 503]).toContain(page.status);
    expect(page.text).toContain('<html');
    expect(page.text).not.toMatch(/ECONNREFUSED|at .*\.ts:\d+/);
    // The session could not be read to say the page is private: the error page is never kept anyway.
    expect(page.cacheControl).toBe('no-store');
    // The sign-in page needs no database to be shown (signing in does).
    const anonymous = await fetch(`${base}/login`);
    expect(await anonymous.text()).toContain('<html');
    await new Promise((r) => setTimeout(r, 500));
    const duringOutage = sent.flat().filter((s) => s.status !== 303 && s.status !== 'no answer').length;

    postgres = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port });
    const restarted = Date.now();
    await waitFor(async () => (await fetch(`${base}/healthz`)).status === 200, 20_000);
    const recoverySeconds = (Date.now() - restarted) / 1000;
    const afterRestart = answered();
    await waitFor(() => answered() >= afterRestart + 30, 15_000);
    const newcomer = new FormClient(base);
    await newcomer.signIn(learners[0]!.username, PASSWORD);
    running = false;
    await Promise.all(load);
    // Connections that the stop cut off in the middle of a transaction were given back: with the
    // load over, every connection of the pool is free again (a leak would starve the pool for good).
    const orm = (await app.orm.em.getConnection().getNativeClient()) as unknown as pg.Pool;
    await waitFor(() => orm.idleCount === orm.totalCount, 5_000);
    console.log(
      `PostgreSQL restart: ${beforeStop} writes stored before the stop, ${duringOutage} refused while it was down, healthy again ${recoverySeconds.toFixed(1)} s after it started, ${answered()} stored in all`,
    );
    expect(duringOutage).toBeGreaterThan(0);

    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      for (const [i, l] of learners.entries()) {
        const mine = sent[i]!;
        // The name is the last one answered as stored, or one sent after it whose answer was an error.
        const saves = mine.filter((s) => s.displayName);
        const lastStored = saves.map((s) => s.status).lastIndexOf(303);
        const allowed = saves.slice(Math.max(0, lastStored)).map((s) => s.displayName);
        const { rows } = await db.query('SELECT display_name FROM users WHERE id = $1', [l.id]);
        expect(allowed, l.username).toContain(rows[0].display_name);
        for (const s of mine.filter((s) => s.join && s.status === 303)) {
          const { rows } = await db.query('SELECT count(*)::int AS n FROM enrolments WHERE cohort_id = $1 AND learner_id = $2', [s.join!.id, l.id]);
          expect(rows[0].n).toBe(1);
        }
      }
    } finally {
      await db.end();
    }
  });
});
