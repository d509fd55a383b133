/**
 * The hostile text corpus in every field that one person writes and another reads, beyond names
 * (tests/security/hostile-text.test.ts): assignment titles and instructions, the work a learner
 * hands in, a teacher's feedback, question threads both ways and announcements. Each is shown
 * escaped to its reader; too long is a clear message with the text kept and nothing stored; bytes
 * that are not UTF-8, even inside a multipart form, are refused and nothing is stored.
 * (SCORM manifest titles and interaction values: tests/scorm.)
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Assignment, Submission, SubmissionVersion } from '../../src/assignments/index.ts';
import { Announcement, Message, Thread } from '../../src/oncall/index.ts';
import { makeAssignment, revisionOf } from '../assignments/helpers.ts';
import { XSS, overlong } from '../fixtures/hostile/strings.ts';
import { ask, reply, schoolWithLesson, threadIdFrom } from '../oncall/support.ts';
import { post, signIn, type Agent } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof schoolWithLesson>>;
/** Signed in once each: the sign-in rate limit counts every attempt from one address. */
let learner: Agent;
let teacher: Agent;
beforeAll(async () => {
  t = await bootApp();
  s = await schoolWithLesson(t.em());
  learner = await signIn(t.app, s.learnerA1.username);
  teacher = await signIn(t.app, s.teacherA.username);
});
afterAll(() => t.close());

/** Markup that would run or load something if it reached a page unescaped. */
const LIVE = /<script>alert|<img src=x|<svg\/onload|onerror=alert|href="javascript:/i;

/** A multipart form, made by hand so a field can carry bytes that are not UTF-8. */
function multipart(fields: Record<string, string | Buffer>) {
  const boundary = 'hostile-boundary-7d1';
  const parts = Object.entries(fields).map(([name, value]) =>
    Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`), Buffer.from(value), Buffer.from('\r\n')]),
  );
  return { type: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]) };
}
/** "José" with a Latin-1 "é": not UTF-8. */
const NOT_UTF8 = Buffer.from([0x4a, 0x6f, 0x73, 0xe9]);
const words = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

function newAssignmentForm(title: string, instructions: string) {
  const day = (d: number) => new Date(Date.now() + d * 86400_000).toISOString().slice(0, 16);
  return { title, instructions, cohortIds: String(s.cohortA.id), opensAt: day(-1), dueAt: day(3), forms: 'text', maxFiles: '1', maxFileMb: '5', grading: 'points', maxPoints: '10' };
}

async function handIn(assignmentId: number, text: string) {
  const revision = revisionOf((await learner.get(`/assignments/${assignmentId}`)).text);
  return learner.post(`/assignments/${assignmentId}/work?_csrf=${learner.csrf}`).field('text', text).field('action', 'submit').field('revision', revision);
}

describe('hostile text shown escaped to its reader', () => {
  it.each(XSS)('when a teacher sets an assignment titled %s with hostile instructions, then the learner sees both inert', async (payload) => {
    const instructions = `Read this.\n\n${payload}\n\n<img src=x onerror=alert(1)> [click](javascript:alert(1)) <script>alert(1)</script>`;
    const res = await post(teacher, '/assignments', newAssignmentForm(payload, instructions));
    expect(res.status).toBe(303);
    const id = Number(/\/assignments\/(\d+)/.exec(res.headers.location!)![1]);
    for (const url of [`/assignments/${id}`, '/assignments', '/']) {
      const page = await learner.get(url);
      expect(page.status).toBe(200);
      expect(page.text, url).not.toMatch(LIVE);
    }
    expect((await learner.get(`/assignments/${id}`)).text).toContain('Read this.');
  });

  it('when a learner hands in hostile text and the teacher answers with hostile feedback, then each reads the other’s inert', async () => {
    const a = await makeAssignment(t.em(), s.teacherA, [s.cohortA], { forms: ['text'] });
    expect((await handIn(a.id, XSS.join(' '))).status).toBe(303);
    const submission = await t.em().findOneOrFail(Submission, { assignment: a.id, learner: s.learnerA1.id });
    const gradePage = await teacher.get(`/submissions/${submission.id}`);
    expect(gradePage.text).not.toMatch(LIVE);
    expect(gradePage.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const graded = await post(teacher, `/submissions/${submission.id}/grade`, { score: '7', feedback: `Good. ${XSS.join(' ')}`, release: 'on' });
    expect(graded.status).toBe(303);
    const mine = await learner.get(`/assignments/${a.id}`);
    expect(mine.text).toContain('Good.');
    expect(mine.text).not.toMatch(LIVE);
  });

  it('when a learner asks a hostile question and the teacher replies in kind, then the inbox and the thread show both inert', async () => {
    const sent = await ask(learner, 'lesson', s.lesson.id, { body: `Why? ${XSS.join(' ')}` });
    expect(sent.status).toBe(303);
    const id = threadIdFrom(sent.headers.location);
    expect((await reply(teacher, id, { body: `Because. ${XSS.join(' ')}` })).status).toBe(303);
    for (const [who, url] of [[teacher, '/inbox'], [teacher, `/questions/${id}`], [learner, `/questions/${id}`], [learner, '/questions']] as const) {
      const page = await who.get(url);
      expect(page.status, url).toBe(200);
      expect(page.text, url).not.toMatch(LIVE);
    }
    expect((await learner.get(`/questions/${id}`)).text).toContain('Because.');
  });

  it('when a teacher announces hostile text, then the learners read it inert', async () => {
    const res = await post(teacher, '/announcements', { cohortId: String(s.cohortA.id), body: `Class news. ${XSS.join(' ')}` });
    expect(res.status).toBe(303);
    for (const url of ['/announcements', '/']) {
      const page = await learner.get(url);
      expect(page.text, url).not.toMatch(LIVE);
    }
    expect((await learner.get('/announcements')).text).toContain('Class news.');
  });
});

describe('too long: a clear message, the text kept, nothing stored', () => {
  it('when an assignment title is too long, then the form says how long it may be and nothing is created', async () => {
    const count = await t.em().count(Assignment, {});
    const res = await post(teacher, '/assignments', newAssignmentForm(overlong(201), 'Fine.'));
    expect(res.status).toBe(422);
    expect(res.text).toContain('Please use at most 200 characters.');
    expect(res.text).toContain(overlong(201));
    expect(await t.em().count(Assignment, {})).toBe(count);
  });

  it('when handed-in work is too long, then nothing is handed in', async () => {
    const a = await makeAssignment(t.em(), s.teacherA, [s.cohortA], { forms: ['text'] });
    const res = await handIn(a.id, overlong(20_001));
    expect(res.status).toBe(422);
    expect(res.text).toContain('Please use at most 20000 characters.');
    expect(await t.em().count(SubmissionVersion, { submission: { assignment: a.id } })).toBe(0);
  });

  it('when feedback is too long, then no grade is stored and the feedback is kept on the form', async () => {
    const a = await makeAssignment(t.em(), s.teacherA, [s.cohortA], { forms: ['text'] });
    await handIn(a.id, 'My work.');
    const submission = await t.em().findOneOrFail(Submission, { assignment: a.id, learner: s.learnerA1.id });
    const res = await post(teacher, `/submissions/${submission.id}/grade`, { score: '5', feedback: overlong(10_001) });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Please use at most 10000 characters.');
    expect(res.text).toContain(overlong(10_001));
    const [row] = (await t.em().execute('SELECT count(*)::int AS n FROM grades WHERE submission_id = ?', [submission.id])) as { n: number }[];
    expect(row!.n).toBe(0);
  });

  it('when a question or an announcement is too long, then it is refused, kept on the form, and nothing is stored', async () => {
    const [threads, announcements] = [await t.em().count(Thread, {}), await t.em().count(Announcement, {})];
    const question = await ask(learner, 'lesson', s.lesson.id, { body: overlong(2001) });
    expect(question.status).toBe(422);
    expect(question.text).toContain('Please use at most 2000 characters.');
    expect(question.text).toContain(overlong(2001));
    const news = await post(teacher, '/announcements', { cohortId: String(s.cohortA.id), body: overlong(2001) });
    expect(news.status).toBe(422);
    expect(news.text).toContain('Please use at most 2000 characters.');
    expect([await t.em().count(Thread, {}), await t.em().count(Announcement, {})]).toEqual([threads, announcements]);
  });
});

describe('bytes that are not UTF-8', () => {
  it('when a question arrives in a multipart form with bytes that are not UTF-8, then it is refused and nothing is stored', async () => {
    const messages = await t.em().count(Message, {});
    const form = multipart({ body: NOT_UTF8, requestId: randomUUID() });
    const res = await learner.post(`/ask/lesson/${s.lesson.id}?_csrf=${learner.csrf}`).set('Content-Type', form.type).send(form.body);
    expect([400, 422]).toContain(res.status);
    expect(words(res.text)).toMatch(/characters that cannot be used here|could not be read/);
    expect(await t.em().count(Message, {})).toBe(messages);
  });

  it('when handed-in work arrives with bytes that are not UTF-8, then it is refused and nothing is handed in', async () => {
    const a = await makeAssignment(t.em(), s.teacherA, [s.cohortA], { forms: ['text'] });
    const revision = revisionOf((await learner.get(`/assignments/${a.id}`)).text);
    const form = multipart({ text: NOT_UTF8, action: 'submit', revision });
    const res = await learner.post(`/assignments/${a.id}/work?_csrf=${learner.csrf}`).set('Content-Type', form.type).send(form.body);
    expect([400, 422]).toContain(res.status);
    expect(words(res.text)).toMatch(/characters that cannot be used here|could not be read/);
    expect(await t.em().count(SubmissionVersion, { submission: { assignment: a.id } })).toBe(0);
  });

  it('when an announcement arrives with bytes that are not UTF-8, then it is refused and nothing is stored', async () => {
    const announcements = await t.em().count(Announcement, {});
    const res = await teacher.post('/announcements').type('form').send(`_csrf=${teacher.csrf}&cohortId=${s.cohortA.id}&body=Jos%E9`);
    expect(res.status).toBe(400);
    expect(res.text).toContain('could not be read');
    expect(await t.em().count(Announcement, {})).toBe(announcements);
  });
});
