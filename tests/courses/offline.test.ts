/**
 * The server's side of offline reading: what the lesson worker fetches ahead is not a visit, a
 * "done" or quiz answer sent again from a kept page is recorded once, an answer kept from an ended
 * session is refused, and signing out tells the browser to drop what it kept.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lesson, LessonProgress, QuizAttempt } from '../../src/courses/index.ts';
import { csrfFrom, post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCourse, makeSchool, makeUser, offerCourse } from '../support/factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());

async function arrange() {
  const em = t.em();
  const school = await makeSchool(em);
  const course = await makeCourse(em, { units: [{ lessons: ['text', 'text', 'quiz'] }] });
  await offerCourse(em, school.cohortA, course);
  const [text1, text2, quiz] = (await em.find(Lesson, { course }, { orderBy: { position: 'asc' } })) as [Lesson, Lesson, Lesson];
  return { ...school, text1, text2, quiz };
}

/** The fields of a form on a page, as the worker keeps them in its outbox. */
function formBody(html: string, action: string) {
  const form = new RegExp(`<form method="post" action="${action}"[^>]*>([\\s\\S]*?)</form>`).exec(html)?.[1];
  if (!form) throw new Error(`no form posting to ${action}`);
  return Object.fromEntries([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
}

const progressOf = (learnerId: number, lessonId: number) => t.em().findOne(LessonProgress, { learner: learnerId, lesson: lessonId });

describe('the lesson worker and its script', () => {
  it('when a browser checks the worker script, then it is served at the root, revalidated every time and 304 when unchanged', async () => {
    const res = await request(t.app).get('/sw.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.text).toContain("const OUTBOX = 'dars-outbox'");
    const again = await request(t.app).get('/sw.js').set('If-None-Match', res.headers.etag!);
    expect(again.status).toBe(304);
  });

  it('when a learner reading Arabic is offline, then the worker has the notices in Arabic, right to left, with the stylesheet', async () => {
    const learner = await makeUser(t.em(), 'learner', { language: 'ar' });
    const agent = await signIn(t.app, learner.username);
    const res = await agent.get('/offline/texts');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ lang: 'ar', dir: 'rtl', copy: 'أنت غير متصل بالإنترنت. هذه نسخة الدرس المحفوظة على هذا الهاتف.' });
    expect(res.body.css).toMatch(/^\/assets\/dars\.[0-9a-f]+\.css$/);
  });

  it('when a learner opens a page, then it loads the offline script; a teacher’s page does not carry it', async () => {
    const s = await arrange();
    const learner = await signIn(t.app, s.learnerA1.username);
    expect((await learner.get(`/lessons/${s.text1.id}`)).text).toMatch(/<script src="\/assets\/offline\.[0-9a-f]+\.js" defer><\/script>/);
    const teacher = await signIn(t.app, s.teacherA.username);
    expect((await teacher.get(`/lessons/${s.text1.id}`)).text).not.toContain('offline.');
  });
});

describe('answers made offline', () => {
  it('when the worker keeps a lesson ahead, then no visit is counted; its "done", sent twice later, is one completion', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    const kept = await agent.get(`/lessons/${s.text1.id}`).set('X-Dars-Prefetch', '1');
    expect(kept.status).toBe(200);
    expect(await progressOf(s.learnerA1.id, s.text1.id)).toBeNull();

    const body = formBody(kept.text, `/lessons/${s.text1.id}/done`);
    expect(body.requestId).toBeTruthy();
    const first = await agent.post(`/lessons/${s.text1.id}/done`).type('form').send(body);
    expect(first.status).toBe(303);
    const done = (await progressOf(s.learnerA1.id, s.text1.id))!.completedAt;
    expect(done).toBeInstanceOf(Date);
    const again = await agent.post(`/lessons/${s.text1.id}/done`).type('form').send(body);
    expect(again.status).toBe(303);
    expect(await t.em().count(LessonProgress, { learner: s.learnerA1.id })).toBe(1);
    expect((await progressOf(s.learnerA1.id, s.text1.id))!.completedAt).toEqual(done);
  });

  it('when quiz answers from a kept page arrive twice, then they are one attempt', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    const kept = await agent.get(`/lessons/${s.quiz.id}`).set('X-Dars-Prefetch', '1');
    const body = { ...formBody(kept.text, `/lessons/${s.quiz.id}/quiz`), 'a-q1': 'a' };
    const first = await agent.post(`/lessons/${s.quiz.id}/quiz`).type('form').send(body);
    const second = await agent.post(`/lessons/${s.quiz.id}/quiz`).type('form').send(body);
    expect(first.status).toBe(303);
    expect(second.headers.location).toBe(first.headers.location);
    expect(await t.em().count(QuizAttempt, { learner: s.learnerA1.id, lesson: s.quiz.id })).toBe(1);
    expect((await progressOf(s.learnerA1.id, s.quiz.id))!.attempts).toBe(1);
  });

  it('when an answer kept in a session that has ended is sent in a new one, then it is refused and nothing is recorded', async () => {
    const s = await arrange();
    const before = await signIn(t.app, s.learnerA1.username);
    const body = formBody((await before.get(`/lessons/${s.text2.id}`).set('X-Dars-Prefetch', '1')).text, `/lessons/${s.text2.id}/done`);
    expect((await post(before, '/logout')).status).toBe(303);
    // Whoever signs in next on this phone, the answer of the old session is not theirs to send.
    const after = await signIn(t.app, s.learnerA2.username);
    const res = await after.post(`/lessons/${s.text2.id}/done`).type('form').send(body);
    expect(res.status).toBe(403);
    expect(await progressOf(s.learnerA2.id, s.text2.id)).toBeNull();
    expect(await progressOf(s.learnerA1.id, s.text2.id)).toBeNull();
  });

  it('when a learner signs out, then the browser is told to drop the lessons it kept and the answers waiting', async () => {
    const learner = await makeUser(t.em(), 'learner');
    const agent = await signIn(t.app, learner.username);
    const res = await post(agent, '/logout');
    expect(res.status).toBe(303);
    expect(res.headers['clear-site-data']).toBe('"storage"');
    expect(csrfFrom((await agent.get('/login')).text)).toBeTruthy();
  });
});
