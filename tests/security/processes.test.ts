import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfFrom } from '../support/agent.ts';
import { cloneDatabase } from '../support/app.ts';

let child: ChildProcess;
let url: string;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ['src/server.ts'], {
    env: { ...process.env, DATABASE_URL: await cloneDatabase(), PORT: String(port), HOST: '127.0.0.1', WEB_CONCURRENCY: '2', DEMO: 'true', LOG_LEVEL: 'info', SESSION_SECRET: 'multi-process-secret-multi-process-secret' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Dars is running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}, 60_000);

/** The worker processes of the server under test (its database is external, so only workers). */
const workerPids = () =>
  new Promise<number[]>((resolve) => {
    const ps = spawn('pgrep', ['-P', String(child.pid)]);
    let out = '';
    ps.stdout.on('data', (d: Buffer) => (out += d.toString()));
    ps.on('close', () => resolve(out.trim().split('\n').filter(Boolean).map(Number)));
  });

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
});

describe('more than one process', () => {
  it('when two workers share the port, then a session made on one is valid on the other', async () => {
    const loginPage = await request(url).get('/login').set('Connection', 'close');
    const cookie = loginPage.headers['set-cookie']![0]!.split(';')[0]!;
    const signedIn = await request(url)
      .post('/login')
      .set('Cookie', cookie)
      .set('Connection', 'close')
      .type('form')
      .send({ _csrf: csrfFrom(loginPage.text), login: 'learner1', password: 'demo1234' });
    expect(signedIn.status).toBe(303);
    const session = signedIn.headers['set-cookie']![0]!.split(';')[0]!;
    const workers = new Set<string>();
    for (let i = 0; i < 12; i++) {
      // A new connection each time, so the cluster hands requests to both workers.
      const res = await request(url).get('/').set('Cookie', session).set('Connection', 'close');
      expect(res.status).toBe(200);
      expect(res.text).toContain('Amina Yusuf');
      workers.add(String(res.headers['x-dars-worker']));
    }
    expect(workers.size).toBe(2);
  });

  it('when a worker is killed, then another takes its place and the school keeps answering', async () => {
    const before = await request(url).get('/healthz').set('Connection', 'close');
    expect(before.status).toBe(200);
    const pids = await workerPids();
    expect(pids.length).toBe(2);
    process.kill(pids[0]!, 'SIGKILL');
    // A connection already handed to the killed worker is lost with it; new ones go to the living.
    await new Promise((r) => setTimeout(r, 1500));
    for (let i = 0; i < 10; i++) expect((await request(url).get('/healthz').set('Connection', 'close').timeout(5000)).status).toBe(200);
    const after = await workerPids();
    expect(after.length).toBe(2);
    expect(after).not.toContain(pids[0]);
  });
});
