/**
 * The place where uploads are kept fails: full (a write stops half-way) or read-only. A learner
 * handing in work or asking a question with a photo gets a clear translated message on the same
 * page with what they typed kept, and nothing is left behind: no rows, no files, no half-files.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/accounts/index.ts';
import { entities } from '../../src/entities.ts';
import { openOrm } from '../../src/platform/database.ts';
import { makeAssignment } from '../assignments/helpers.ts';
import { signIn } from '../support/agent.ts';
import { bootApp, cloneDatabase, type TestApp } from '../support/app.ts';
import { PASSWORD, makeCohort, makeCourse, makeProgramme, makeUser, offerCourse } from '../support/factories.ts';
import { FormClient, kill, startServer, type StartedServer } from './support.ts';

/** A PDF of about `bytes` bytes: its magic bytes, then a comment as padding. */
const pdf = (bytes: number) => Buffer.concat([Buffer.from('%PDF-1.4\n%'), Buffer.alloc(Math.max(0, bytes - 40), 0x61), Buffer.from('\ntrailer<<>>\n%%EOF\n')]);

/** A phone photo of noise: it stays large (hundreds of KB) after being made small and re-encoded. */
const noisyPhoto = () => sharp(randomBytes(1000 * 1000 * 3), { raw: { width: 1000, height: 1000, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();

/** Every file below DATA_DIR/files, half-written ones included. */
function filesUnder(dataDir: string): string[] {
  const root = path.join(dataDir, 'files');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

/** Counts of what an upload may create, for one learner. */
async function rowsOf(db: pg.Client | { query: (sql: string, params: unknown[]) => Promise<{ rows: { n: number }[] }> }, learnerId: number) {
  const one = async (sql: string) => ((await db.query(sql, [learnerId])) as { rows: { n: number }[] }).rows[0]!.n;
  return {
    submissionFiles: await one('SELECT count(*)::int AS n FROM submission_files f JOIN submissions s ON s.id = f.submission_id WHERE s.learner_id = $1'),
    versions: await one('SELECT count(*)::int AS n FROM submission_versions v JOIN submissions s ON s.id = v.submission_id WHERE s.learner_id = $1'),
    drafts: await one(`SELECT count(*)::int AS n FROM submissions WHERE learner_id = $1 AND draft_text <> ''`),
    threads: await one('SELECT count(*)::int AS n FROM oncall_threads WHERE learner_id = $1'),
    attachments: await one('SELECT count(*)::int AS n FROM oncall_attachments a JOIN oncall_messages m ON m.id = a.message_id WHERE m.author_id = $1'),
  };
}

const NOTHING = { submissionFiles: 0, versions: 0, drafts: 0, threads: 0, attachments: 0 };
const MESSAGE = 'Your file could not be stored just now, so nothing was saved.';

describe('when the disk is full', () => {
  let databaseUrl: string;
  let dataDir: string;
  let server: StartedServer;
  let db: pg.Client;
  let learner: { id: number; username: string };
  let assignmentId: number;
  let lessonId: number;

  beforeAll(async () => {
    databaseUrl = await cloneDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'dars-fault-full-'));
    const orm = await openOrm(databaseUrl, entities, { poolMax: 2 });
    const em = orm.em.fork();
    const teacher = await makeUser(em, 'teacher');
    const user: User = await makeUser(em, 'learner');
    learner = { id: user.id, username: user.username };
    const cohort = await makeCohort(em, await makeProgramme(em), { teachers: [teacher], learners: [user] });
    assignmentId = (await makeAssignment(em, teacher, [cohort], { forms: ['text', 'pdf', 'photo'] })).id;
    // A course in the database also keeps the server from importing the shipped courses at start.
    const course = await makeCourse(em, { units: [{ lessons: ['text'] }] });
    await offerCourse(em, cohort, course);
    const [lesson] = (await em.execute('SELECT id FROM lessons WHERE course_id = ? LIMIT 1', [course.id])) as { id: number }[];
    lessonId = lesson!.id;
    await orm.close();
    // 64 blocks: a small PDF fits, a large one or a photo stops half-way.
    server = await startServer({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir }, undefined, { fileSizeBlocks: 64 });
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    if (server) await kill(server.child, 'SIGTERM');
    await db?.end();
  });

  it('when a learner hands in two files and the second cannot be written, then the page says so, keeps the text, and neither file nor any row stays', async () => {
    const client = new FormClient(server.url);
    await client.signIn(learner.username, PASSWORD);
    const page = await client.page(`/assignments/${assignmentId}`);
    expect(page.status).toBe(200);
    const res = await client.upload(`/assignments/${assignmentId}/work`, { text: 'My essay about the market.', action: 'submit', revision: '0' }, [
      { field: 'files', name: 'page1.pdf', type: 'application/pdf', data: pdf(2_000) },
      { field: 'files', name: 'page2.pdf', type: 'application/pdf', data: pdf(400_000) },
    ]);
    const html = await res.text();
    expect(res.status).toBe(503);
    expect(html).toContain(MESSAGE);
    expect(html).toContain('My essay about the market.');
    expect(html).not.toMatch(/EFBIG|at \S+\.ts:\d+/);
    expect(await rowsOf(db, learner.id)).toEqual(NOTHING);
    expect(filesUnder(dataDir)).toEqual([]);
    expect(server.output()).toContain('stored files could not be written');

    // The server lives on: what fits is stored as usual.
    const small = await client.upload(`/assignments/${assignmentId}/work`, { text: 'My essay about the market.', action: 'submit', revision: '0' }, [
      { field: 'files', name: 'page1.pdf', type: 'application/pdf', data: pdf(2_000) },
    ]);
    expect(small.status).toBe(303);
    expect((await rowsOf(db, learner.id)).versions).toBe(1);
    expect(filesUnder(dataDir)).toHaveLength(1);
  });

  it('when a learner asks a question with a photo that cannot be written, then the page says so, keeps the question, and no thread or file stays', async () => {
    const client = new FormClient(server.url);
    await client.signIn(learner.username, PASSWORD);
    const form = await client.page(`/ask/lesson/${lessonId}`);
    const requestId = /name="requestId" value="([^"]+)"/.exec(form.text)![1]!;
    const before = filesUnder(dataDir);
    const res = await client.upload(`/ask/lesson/${lessonId}`, { body: 'Is my drawing of the verb table right?', requestId }, [
      { field: 'attachment', name: 'table.jpg', type: 'image/jpeg', data: await noisyPhoto() },
    ]);
    const html = await res.text();
    expect(res.status).toBe(503);
    expect(html).toContain(MESSAGE);
    expect(html).toContain('Is my drawing of the verb table right?');
    const rows = await rowsOf(db, learner.id);
    expect([rows.threads, rows.attachments]).toEqual([0, 0]);
    expect(filesUnder(dataDir)).toEqual(before);
  });
});

/**
 * Makes `dir` read-only for this process: permissions for an ordinary user; for root, whom
 * permissions do not stop, the immutable attribute. False when neither holds on this machine.
 */
function makeReadOnly(dir: string): { undo: () => void } | undefined {
  const root = process.getuid?.() === 0;
  const undo = root ? () => spawnSync('chattr', ['-i', dir]) : () => spawnSync('chmod', ['700', dir]);
  const done = root ? spawnSync('chattr', ['+i', dir]).status === 0 : spawnSync('chmod', ['500', dir]).status === 0;
  const probe = path.join(dir, 'probe');
  try {
    writeFileSync(probe, 'x');
    rmSync(probe);
    undo();
    return undefined;
  } catch {
    return done ? { undo } : undefined;
  }
}

describe('when the storage is read-only', () => {
  let t: TestApp;
  let learner: User;
  let assignmentId: number;
  let lessonId: number;
  let readOnly: { undo: () => void } | undefined;

  beforeAll(async () => {
    t = await bootApp();
    const em = t.em();
    const teacher = await makeUser(em, 'teacher');
    learner = await makeUser(em, 'learner');
    const cohort = await makeCohort(em, await makeProgramme(em), { teachers: [teacher], learners: [learner] });
    assignmentId = (await makeAssignment(em, teacher, [cohort], { forms: ['text', 'pdf', 'photo'] })).id;
    const course = await makeCourse(em, { units: [{ lessons: ['text'] }] });
    await offerCourse(em, cohort, course);
    const [lesson] = (await em.execute('SELECT id FROM lessons WHERE course_id = ? LIMIT 1', [course.id])) as { id: number }[];
    lessonId = lesson!.id;
    const files = path.join(t.config.dataDir, 'files');
    mkdirSync(files, { recursive: true });
    readOnly = makeReadOnly(files);
  });

  afterAll(async () => {
    readOnly?.undo();
    await t.close();
  });

  const counts = () => rowsOf({ query: async (sql, params) => ({ rows: (await t.em().execute(sql.replace(/\$1/g, '?'), params)) as { n: number }[] }) }, learner.id);

  it('when a learner hands in a file, then the page says it could not be stored, keeps the text, and nothing is stored', async (ctx) => {
    if (!readOnly) return ctx.skip('no way to make a folder read-only on this machine');
    const agent = await signIn(t.app, learner.username);
    await agent.get(`/assignments/${assignmentId}`);
    const res = await agent
      .post(`/assignments/${assignmentId}/work?_csrf=${agent.csrf}`)
      .field('text', 'Notes on chapter two.')
      .field('action', 'submit')
      .field('revision', '0')
      .attach('files', pdf(3_000), 'notes.pdf');
    expect(res.status).toBe(503);
    expect(res.text).toContain(MESSAGE);
    expect(res.text).toContain('Notes on chapter two.');
    expect(await counts()).toEqual(NOTHING);
    expect(filesUnder(t.config.dataDir)).toEqual([]);
  });

  it('when a learner asks with a photo, then the page says it could not be stored, keeps the question, and nothing is stored', async (ctx) => {
    if (!readOnly) return ctx.skip('no way to make a folder read-only on this machine');
    const agent = await signIn(t.app, learner.username);
    const photo = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#88aa66' } }).jpeg().toBuffer();
    const res = await agent.post(`/ask/lesson/${lessonId}?_csrf=${agent.csrf}`).field('requestId', randomUUID()).field('body', 'What does this sign say?').attach('attachment', photo, 'sign.jpg');
    expect(res.status).toBe(503);
    expect(res.text).toContain(MESSAGE);
    expect(res.text).toContain('What does this sign say?');
    expect(await counts()).toEqual(NOTHING);
    expect(filesUnder(t.config.dataDir)).toEqual([]);
  });
});
