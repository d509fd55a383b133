/**
 * kill -9 of the server while learners work: they finish lessons, answer quizzes, hand in
 * assignments, their SCORM lessons commit, they join classes, and a coordinator imports learners. Every write that was answered as stored
 * is in the database after a restart, exactly once, and nothing is doubled, even when the clients
 * send again what got no answer (as a person taps again after an error, as a SCORM player
 * resends a commit).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/accounts/index.ts';
import { entities } from '../../src/entities.ts';
import { openOrm } from '../../src/platform/database.ts';
import { makeAssignment, revisionOf } from '../assignments/helpers.ts';
import { scorm12Single } from '../scorm/packages.ts';
import { cloneDatabase } from '../support/app.ts';
import { PASSWORD, makeCohort, makeCourse, makeProgramme, makeUser, offerCourse } from '../support/factories.ts';
import { FormClient, kill, startServer, type StartedServer } from './support.ts';

const LEARNERS = 10;
const ASSIGNMENTS = 4;
const JOINABLE_COHORTS = 4;
/** Writes answered before the kill; enough to be sure the kill lands mid-load. */
const KILL_AFTER_ACKED = 100;

/** One write a client sends: what it is, and how to check it afterwards. */
type Write =
  | { kind: 'work'; learner: number; assignmentId: number; text: string; revision?: string }
  | { kind: 'scorm'; learner: number; seq: number }
  | { kind: 'lesson'; learner: number; lessonId: number; requestId?: string }
  | { kind: 'quiz'; learner: number; lessonId: number; requestId?: string }
  | { kind: 'join'; learner: number; cohortId: number; code: string }
  | { kind: 'import'; cohortId: number; usernames: string[] };

interface Outcome {
  acked: Write[];
  /** Sent, but the answer never came (the server died): may or may not be stored. */
  inFlight: Write | undefined;
  failed: { write: Write; status: number }[];
}

/** A learner's SCORM sitting: the launch token the lesson page gave, renewed by each commit's answer. */
interface Sitting {
  token: string;
  sessionId: number;
}

let databaseUrl: string;
let dataDir: string;
let server: StartedServer;
let db: pg.Client;
const learners: { id: number; username: string }[] = [];
const cohorts: { id: number; code: string }[] = [];
const assignmentIds: number[] = [];
/** The course's text lessons (marked done) and its quiz (answered again and again). */
const textLessons: number[] = [];
let quizLesson: number;
let importCohortId: number;
let coordinatorName: string;
let teacherName: string;
let place: string;

beforeAll(async () => {
  databaseUrl = await cloneDatabase();
  dataDir = mkdtempSync(path.join(tmpdir(), 'dars-fault-data-'));
  const orm = await openOrm(databaseUrl, entities, { poolMax: 2 });
  const em = orm.em.fork();
  const coordinator = await makeUser(em, 'coordinator');
  const teacher = await makeUser(em, 'teacher');
  coordinatorName = coordinator.username;
  teacherName = teacher.username;
  const programme = await makeProgramme(em, [coordinator]);
  const users: User[] = [];
  for (let i = 0; i < LEARNERS; i++) {
    const u = await makeUser(em, 'learner');
    users.push(u);
    learners.push({ id: u.id, username: u.username });
  }
  const home = await makeCohort(em, programme, { teachers: [teacher], learners: users });
  for (let i = 0; i < ASSIGNMENTS; i++) assignmentIds.push((await makeAssignment(em, teacher, [home], { forms: ['text'] })).id);
  const course = await makeCourse(em, { units: [{ lessons: ['text', 'text', 'text', 'quiz'] }] });
  await offerCourse(em, home, course);
  const [unit] = (await em.execute('SELECT id FROM course_units WHERE course_id = ? ORDER BY position LIMIT 1', [course.id])) as { id: number }[];
  place = `${course.id}:${unit!.id}`;
  for (const l of (await em.execute('SELECT id, type FROM lessons WHERE course_id = ? ORDER BY position', [course.id])) as { id: number; type: string }[]) {
    if (l.type === 'quiz') quizLesson = l.id;
    else textLessons.push(l.id);
  }
  for (let i = 0; i < JOINABLE_COHORTS; i++) {
    const c = await makeCohort(em, programme);
    cohorts.push({ id: c.id, code: c.enrolmentCode });
  }
  importCohortId = (await makeCohort(em, programme)).id;
  await orm.close();
  server = await startServer({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir });
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
}, 120_000);

afterAll(async () => {
  if (server) await kill(server.child, 'SIGTERM');
  await db?.end();
});

/** The teacher adds a SCORM package to the course through the real form; returns its lesson id. */
async function importScorm(): Promise<number> {
  const teacher = new FormClient(server.url);
  await teacher.signIn(teacherName, PASSWORD);
  await teacher.page('/scorm');
  const res = await teacher.upload('/scorm', { place }, [{ field: 'file', name: 'package.zip', type: 'application/zip', data: scorm12Single({ title: 'Counting' }) }]);
  expect(res.status, await res.clone().text()).toBe(303);
  return Number(/\/scorm\/lessons\/(\d+)\/report/.exec(res.headers.get('location')!)![1]);
}

/** Opens the SCORM lesson page as the learner does: a new sitting and its launch token. */
async function sit(client: FormClient, learnerId: number, lessonId: number): Promise<Sitting> {
  const page = await client.page(`/scorm/lessons/${lessonId}`);
  expect(page.status).toBe(200);
  const token = /\/play\/([^?"]+)/.exec(page.text)![1]!;
  const { rows } = await db.query(
    `SELECT s.id FROM scorm_sessions s JOIN scorm_attempts a ON a.id = s.attempt_id WHERE a.learner_id = $1 ORDER BY s.id DESC LIMIT 1`,
    [learnerId],
  );
  return { token, sessionId: rows[0].id };
}

async function send(client: FormClient, w: Write, sittings: Sitting[]): Promise<Response> {
  switch (w.kind) {
    case 'work': {
      // As a person does: open the assignment, type, hand in. Sent again, the form carries the
      // revision of the page it was typed on, which makes a second tap harmless.
      w.revision ??= revisionOf((await client.page(`/assignments/${w.assignmentId}`)).text);
      return client.upload(`/assignments/${w.assignmentId}/work`, { text: w.text, action: 'submit', revision: w.revision }, []);
    }
    case 'scorm': {
      // The player's commit: text/plain from the content origin, authorised by the launch token.
      const sitting = sittings[w.learner]!;
      const cmi = { core: { lesson_location: String(w.seq), session_time: '0000:00:05', exit: 'suspend' }, suspend_data: `page ${w.seq}` };
      const res = await fetch(`${client.base}/scorm/commit`, {
        method: 'POST',
        headers: { origin: server.contentOrigin, 'content-type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify({ token: sitting.token, seq: w.seq, cmi }),
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await res.clone().json().catch(() => ({}))) as { token?: string };
      if (body.token) sitting.token = body.token;
      return res;
    }
    case 'lesson': {
      // The lesson page's form carries its idempotency key; sent again, the same key.
      w.requestId ??= requestIdOf((await client.page(`/lessons/${w.lessonId}`)).text);
      return client.form(`/lessons/${w.lessonId}/done`, { requestId: w.requestId });
    }
    case 'quiz': {
      const page = w.requestId ? undefined : (await client.page(`/lessons/${w.lessonId}`)).text;
      w.requestId ??= requestIdOf(page!);
      return client.form(`/lessons/${w.lessonId}/quiz`, { requestId: w.requestId, [answerFieldOf(page ?? '') ?? quizField]: 'a' });
    }
    case 'join':
      return client.form('/join', { code: w.code });
    case 'import': {
      const csv = `username,display_name\r\n${w.usernames.map((u) => `${u},Imported ${u}`).join('\r\n')}\r\n`;
      return client.upload(`/cohorts/${w.cohortId}/import`, {}, [{ field: 'file', name: 'learners.csv', type: 'text/csv', data: Buffer.from(csv) }]);
    }
  }
}

const requestIdOf = (html: string) => /name="requestId" value="([^"]+)"/.exec(html)![1]!;
/** The name of the quiz's answer field, read from the first page that shows it. */
let quizField = '';
function answerFieldOf(html: string) {
  const name = /type="radio" id="[^"]*" name="([^"]+)" value="a"/.exec(html)?.[1];
  if (name) quizField = name;
  return name;
}

/** The answer that means "stored": the form's redirect, the import report page, the commit's JSON. */
function stored(w: Write, res: Response) {
  if (w.kind === 'import' || w.kind === 'scorm') return res.status === 200;
  return res.status === 303 && res.headers.get('location') !== '/login';
}

/** Sends writes one after another until the server stops answering. */
async function writeUntilDown(client: FormClient, next: (seq: number) => Write, sittings: Sitting[], counter: { acked: number }): Promise<Outcome> {
  const outcome: Outcome = { acked: [], inFlight: undefined, failed: [] };
  for (let seq = 0; ; seq++) {
    const w = next(seq);
    outcome.inFlight = w;
    let res: Response;
    try {
      res = await send(client, w, sittings);
      await res.arrayBuffer();
    } catch {
      return outcome;
    }
    outcome.inFlight = undefined;
    if (stored(w, res)) {
      outcome.acked.push(w);
      counter.acked++;
    } else outcome.failed.push({ write: w, status: res.status });
  }
}

/**
 * What learner `i` does, step by step: hand in each assignment, finish each lesson and then answer
 * the quiz again and again, join classes, and keep the SCORM lesson committing.
 */
function learnerWrites(i: number) {
  let scormSeq = 0;
  return (step: number): Write => {
    const round = Math.floor(step / 4);
    if (step % 4 === 0 && round < ASSIGNMENTS) return { kind: 'work', learner: i, assignmentId: assignmentIds[round]!, text: `Learner ${i} answers assignment ${round}.` };
    if (step % 4 === 1) {
      const lesson = round % 2 === 0 ? textLessons[round / 2] : undefined;
      return lesson ? { kind: 'lesson', learner: i, lessonId: lesson } : { kind: 'quiz', learner: i, lessonId: quizLesson };
    }
    if (step % 4 === 2 && round < JOINABLE_COHORTS) return { kind: 'join', learner: i, cohortId: cohorts[round]!.id, code: cohorts[round]!.code };
    return { kind: 'scorm', learner: i, seq: ++scormSeq };
  };
}

async function check(outcomes: Outcome[], sittings: Sitting[]) {
  const acked = outcomes.flatMap((o) => o.acked);
  const inFlight = outcomes.flatMap((o) => (o.inFlight ? [o.inFlight] : []));
  for (const w of acked.filter((w) => w.kind === 'work')) {
    const { rows } = await db.query(
      `SELECT v.text FROM submission_versions v JOIN submissions s ON s.id = v.submission_id WHERE s.assignment_id = $1 AND s.learner_id = $2`,
      [w.assignmentId, learners[w.learner]!.id],
    );
    expect(rows.map((r) => r.text), `work of learner ${w.learner} on ${w.assignmentId}`).toEqual([w.text]);
  }
  for (const [i, sitting] of sittings.entries()) {
    const answered = acked.filter((w) => w.kind === 'scorm' && w.learner === i).map((w) => (w as { seq: number }).seq);
    const maybe = inFlight.filter((w) => w.kind === 'scorm' && w.learner === i).map((w) => (w as { seq: number }).seq);
    const { rows } = await db.query('SELECT seq FROM scorm_commits WHERE session_id = $1 ORDER BY seq', [sitting.sessionId]);
    const kept = rows.map((r) => r.seq as number);
    // Every answered commit is there once; the one in flight may or may not be; nothing else.
    expect(kept.filter((s) => !maybe.includes(s)), `commits of learner ${i}`).toEqual(answered);
    const { rows: attempt } = await db.query(`SELECT a.last_seq FROM scorm_attempts a JOIN scorm_sessions s ON s.attempt_id = a.id WHERE s.id = $1`, [sitting.sessionId]);
    if (answered.length) expect(attempt[0].last_seq).toBeGreaterThanOrEqual(Math.max(...answered));
  }
  for (const w of acked.filter((w) => w.kind === 'lesson')) {
    const { rows } = await db.query('SELECT count(*)::int AS n, count(completed_at)::int AS done FROM lesson_progress WHERE lesson_id = $1 AND learner_id = $2', [w.lessonId, learners[w.learner]!.id]);
    expect(rows[0], `lesson ${w.lessonId} done by learner ${w.learner}`).toEqual({ n: 1, done: 1 });
  }
  for (const [i, l] of learners.entries()) {
    // Every answered quiz is one attempt under its form's key; the one in flight may be there too.
    const answered = acked.filter((w) => w.kind === 'quiz' && w.learner === i).map((w) => (w as { requestId: string }).requestId);
    const maybe = inFlight.filter((w) => w.kind === 'quiz' && w.learner === i).map((w) => (w as { requestId?: string }).requestId);
    const { rows } = await db.query('SELECT idempotency_key FROM quiz_attempts WHERE learner_id = $1 ORDER BY id', [l.id]);
    expect(rows.map((r) => r.idempotency_key).filter((k) => !maybe.includes(k)), `quiz attempts of learner ${i}`).toEqual(answered);
  }
  for (const w of acked.filter((w) => w.kind === 'join')) {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM enrolments WHERE cohort_id = $1 AND learner_id = $2 AND status = 'active'`, [w.cohortId, learners[w.learner]!.id]);
    expect(rows[0].n, `join ${w.code} by learner ${w.learner}`).toBe(1);
  }
  for (const w of acked.filter((w) => w.kind === 'import')) {
    const { rows } = await db.query(
      `SELECT u.username, count(e.id)::int AS enrolments FROM users u LEFT JOIN enrolments e ON e.learner_id = u.id AND e.cohort_id = $2 WHERE u.username = ANY($1) GROUP BY u.username`,
      [w.usernames, w.cohortId],
    );
    expect(rows.map((r) => r.username).sort(), 'imported learners').toEqual([...w.usernames].sort());
    expect(rows.every((r) => r.enrolments === 1)).toBe(true);
  }
  const doubled = await db.query(
    `SELECT 'enrolment' AS what FROM enrolments GROUP BY cohort_id, learner_id HAVING count(*) > 1
     UNION ALL SELECT 'submission' FROM submissions GROUP BY assignment_id, learner_id HAVING count(*) > 1
     UNION ALL SELECT 'version' FROM submission_versions GROUP BY submission_id HAVING count(*) > 1
     UNION ALL SELECT 'lesson' FROM lesson_progress GROUP BY learner_id, lesson_id HAVING count(*) > 1
     UNION ALL SELECT 'quiz' FROM quiz_attempts GROUP BY learner_id, idempotency_key HAVING count(*) > 1`,
  );
  expect(doubled.rows).toEqual([]);
}

describe('kill -9 under load', () => {
  it('when the server is killed while learners finish lessons, answer quizzes, hand in work and commit SCORM data, then every answered write survives the restart once and a resent one is not doubled', async () => {
    const lessonId = await importScorm();
    const clients = await Promise.all(
      learners.map(async (l) => {
        const c = new FormClient(server.url);
        await c.signIn(l.username, PASSWORD);
        return c;
      }),
    );
    const sittings: Sitting[] = [];
    for (const [i, c] of clients.entries()) sittings.push(await sit(c, learners[i]!.id, lessonId));
    const coordinator = new FormClient(server.url);
    await coordinator.signIn(coordinatorName, PASSWORD);

    const counter = { acked: 0 };
    const load = [
      ...clients.map((c, i) => writeUntilDown(c, learnerWrites(i), sittings, counter)),
      writeUntilDown(coordinator, (seq) => ({ kind: 'import', cohortId: importCohortId, usernames: [`kill${seq}a`, `kill${seq}b`] }), sittings, counter),
    ];
    const deadline = Date.now() + 20_000;
    while (counter.acked < KILL_AFTER_ACKED && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await kill(server.child, 'SIGKILL');
    const outcomes = await Promise.all(load);
    const acked = outcomes.flatMap((o) => o.acked);
    const inFlight = outcomes.filter((o) => o.inFlight).length;
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKED);
    expect(outcomes.flatMap((o) => o.failed)).toEqual([]);
    const kinds = Object.fromEntries(['lesson', 'quiz', 'work', 'scorm', 'join', 'import'].map((k) => [k, acked.filter((w) => w.kind === k).length]));
    for (const kind of ['lesson', 'quiz', 'work', 'scorm']) expect(kinds[kind], kind).toBeGreaterThan(0);
    console.log(`kill -9: ${acked.length} writes answered as stored before the kill (${JSON.stringify(kinds)}), ${inFlight} in flight`);

    const started = Date.now();
    server = await startServer({ DATABASE_URL: databaseUrl, DATA_DIR: dataDir }, server.ports);
    console.log(`kill -9: the restarted server answered /healthz after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await check(outcomes, sittings);

    // Sessions live in PostgreSQL: everyone is still signed in, and taps again what got no answer,
    // then once more what was answered (a double tap): neither is stored twice.
    for (const [i, c] of [...clients, coordinator].entries()) {
      const page = await c.page('/profile');
      expect(page.status).toBe(200);
      const o = outcomes[i]!;
      const again = [o.inFlight, o.acked.at(-1)].filter((w): w is Write => !!w && w.kind !== 'import');
      if (o.inFlight?.kind === 'import') again.unshift(o.inFlight);
      for (const w of again) {
        const res = await send(c, w, sittings);
        await res.arrayBuffer();
        expect(stored(w, res), `${w.kind} sent again answered ${res.status}`).toBe(true);
      }
      if (o.inFlight) o.acked.push(o.inFlight);
      o.inFlight = undefined;
    }
    await check(outcomes, sittings);
    const imported = outcomes.at(-1)!.acked.flatMap((w) => (w.kind === 'import' ? w.usernames : []));
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM users WHERE username LIKE 'kill%'`);
    expect(rows[0].n).toBe(imported.length);
  }, 120_000);
});
