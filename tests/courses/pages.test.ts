import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../../src/accounts/index.ts';
import { CourseCompletion, Lesson, LessonProgress, QuizAttempt, type Course } from '../../src/courses/index.ts';
import { post, signIn, type Agent } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCourse, makeSchool, makeUser, offerCourse } from '../support/factories.ts';

let t: TestApp;
beforeAll(async () => {
  // Many people sign in from one address here; the sign-in rate limit has its own tests.
  t = await bootApp({ LOGIN_RATE_PER_IP: '1000' });
});
afterAll(() => t.close());

/** One question of each kind: single (right: a), multiple (right: a and b), fill (right: "μέρα" or "mera"). */
const QUIZ = {
  passScore: 60,
  questions: [
    { id: 'q1', type: 'single' as const, prompt: 'How do you say hello?', options: [{ id: 'a', text: 'Γεια σου', correct: true }, { id: 'b', text: 'Ευχαριστώ', correct: false }], answers: [], explanation: 'Γεια σου is hello.' },
    { id: 'q2', type: 'multiple' as const, prompt: 'Which are greetings?', options: [{ id: 'a', text: 'Καλημέρα', correct: true }, { id: 'b', text: 'Καλησπέρα', correct: true }, { id: 'c', text: 'Νερό', correct: false }], answers: [], explanation: 'Both are greetings.' },
    { id: 'q3', type: 'fill' as const, prompt: 'Complete: Καλη___', options: [], answers: ['μέρα', 'mera'], explanation: 'Καλημέρα means good morning.' },
  ],
};

async function arrange() {
  const em = t.em();
  const school = await makeSchool(em);
  const course = await makeCourse(em, { title: 'Greek for pages', units: [{ lessons: ['text', 'text'] }, { lessons: ['quiz'] }] });
  await offerCourse(em, school.cohortA, course);
  const lessons = await em.find(Lesson, { course }, { orderBy: { position: 'asc' } });
  lessons[2]!.quiz = QUIZ;
  await em.flush();
  const [text1, text2, quiz] = lessons as [Lesson, Lesson, Lesson];
  return { ...school, course, text1, text2, quiz };
}

/** Names and sizes put into sentences are wrapped in Unicode isolates; a reader does not see them. */
const plain = (html: string) => html.replace(/[\u2068\u2069]/g, '');
const requestIdOf = (html: string) => /name="requestId" value="([^"]+)"/.exec(html)![1]!;

async function openQuiz(agent: Agent, quiz: Lesson) {
  const page = await agent.get(`/lessons/${quiz.id}`);
  expect(page.status).toBe(200);
  return requestIdOf(page.text);
}

async function counts(learnerId: number, lessonId: number) {
  const em = t.em();
  const progress = await em.findOne(LessonProgress, { learner: learnerId, lesson: lessonId });
  return { attempts: await em.count(QuizAttempt, { learner: learnerId, lesson: lessonId }), recorded: progress?.attempts ?? 0, best: progress?.bestScore ?? null, done: !!progress?.completedAt };
}

describe('quizzes, graded on the server', () => {
  it('when a learner answers every kind of question right, then they pass and see the right answers and explanations', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    const requestId = await openQuiz(agent, s.quiz);
    const res = await post(agent, `/lessons/${s.quiz.id}/quiz`, { requestId, 'a-q1': 'a', 'a-q2': ['a', 'b'], 'a-q3': '  MERA ' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(new RegExp(`^/lessons/${s.quiz.id}/attempts/\\d+$`));
    const result = await agent.get(res.headers.location!);
    expect(result.text).toContain('100%');
    expect(result.text).toContain('You passed.');
    expect(result.text).toContain('Both are greetings.');
    expect(result.text).toContain('Καλημέρα means good morning.');
    expect(result.text).toContain('Try again');
    expect(await counts(s.learnerA1.id, s.quiz.id)).toEqual({ attempts: 1, recorded: 1, best: 100, done: true });
  });

  it('when the single answer is wrong, one right option of the multiple is missing and the blank is filled wrong, then each is marked wrong and the right answers are shown', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    const requestId = await openQuiz(agent, s.quiz);
    const res = await post(agent, `/lessons/${s.quiz.id}/quiz`, { requestId, 'a-q1': 'b', 'a-q2': 'a', 'a-q3': 'νύχτα' });
    const result = await agent.get(res.headers.location!);
    expect(result.text).toContain('0%');
    expect(result.text).toContain('Not passed yet: you need 60%.');
    expect(result.text.match(/Not right/g)).toHaveLength(3);
    expect(result.text).toContain('right answer');
    expect(result.text).toContain('νύχτα');
    expect(result.text).toContain('μέρα');
    expect(await counts(s.learnerA1.id, s.quiz.id)).toEqual({ attempts: 1, recorded: 1, best: 0, done: false });
  });

  it('when a multiple-choice question also gets a wrong option, then it is not right; two of three right passes at 67%', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    const requestId = await openQuiz(agent, s.quiz);
    const res = await post(agent, `/lessons/${s.quiz.id}/quiz`, { requestId, 'a-q1': 'a', 'a-q2': ['a', 'b', 'c'], 'a-q3': 'μέρα' });
    const result = await agent.get(res.headers.location!);
    expect(result.text).toContain('67%');
    expect(await counts(s.learnerA1.id, s.quiz.id)).toEqual({ attempts: 1, recorded: 1, best: 67, done: true });
  });

  it('when the form is tampered with (an option that does not exist, a missing answer), then a clear message is shown, the answers are kept and nothing is recorded', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    const requestId = await openQuiz(agent, s.quiz);
    const forged = await post(agent, `/lessons/${s.quiz.id}/quiz`, { requestId, 'a-q1': 'z', 'a-q2': 'b', 'a-q3': 'mera' });
    expect(forged.status).toBe(422);
    expect(forged.text).toContain('Please choose from the answers shown.');
    expect(forged.text).toContain('Some answers are missing. Your other answers are kept.');
    expect(forged.text).toMatch(/id="a-q2-b" name="a-q2" value="b" checked/);
    expect(forged.text).toContain('value="mera"');
    const missing = await post(agent, `/lessons/${s.quiz.id}/quiz`, { requestId, 'a-q1': 'a', 'a-q3': 'mera' });
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('Please answer this question.');
    expect(missing.text).toMatch(/id="a-q1-a" name="a-q1" value="a" checked/);
    const twoForSingle = await post(agent, `/lessons/${s.quiz.id}/quiz`, { requestId, 'a-q1': ['a', 'b'], 'a-q2': 'a', 'a-q3': 'mera' });
    expect(twoForSingle.status).toBe(422);
    const noKey = await post(agent, `/lessons/${s.quiz.id}/quiz`, { 'a-q1': 'a', 'a-q2': 'a', 'a-q3': 'mera' });
    expect(noKey.status).toBe(422);
    expect(noKey.text).toContain('This page is out of date.');
    expect(await counts(s.learnerA1.id, s.quiz.id)).toEqual({ attempts: 0, recorded: 0, best: null, done: false });
  });

  it('when the same page is sent twice, then it is one attempt; a retry from the page shown again is a second, and the best score stays', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    const first = await openQuiz(agent, s.quiz);
    const right = { 'a-q1': 'a', 'a-q2': ['a', 'b'], 'a-q3': 'mera' };
    const a = await post(agent, `/lessons/${s.quiz.id}/quiz`, { requestId: first, ...right });
    const b = await post(agent, `/lessons/${s.quiz.id}/quiz`, { requestId: first, ...right, 'a-q1': 'b' });
    expect(b.headers.location).toBe(a.headers.location);
    expect(await counts(s.learnerA1.id, s.quiz.id)).toEqual({ attempts: 1, recorded: 1, best: 100, done: true });
    const second = await openQuiz(agent, s.quiz);
    expect(second).not.toBe(first);
    const c = await post(agent, `/lessons/${s.quiz.id}/quiz`, { requestId: second, 'a-q1': 'b', 'a-q2': 'a', 'a-q3': 'x' });
    expect(c.headers.location).not.toBe(a.headers.location);
    expect(await counts(s.learnerA1.id, s.quiz.id)).toEqual({ attempts: 2, recorded: 2, best: 100, done: true });
    const page = await agent.get(`/lessons/${s.quiz.id}`);
    expect(page.text).toContain('Your best score: 100% after 2 attempts.');
  });

  it("when a learner asks for another learner's attempt, then it is not found", async () => {
    const s = await arrange();
    const a1 = await signIn(t.app, s.learnerA1.username);
    const res = await post(a1, `/lessons/${s.quiz.id}/quiz`, { requestId: await openQuiz(a1, s.quiz), 'a-q1': 'a', 'a-q2': 'a', 'a-q3': 'x' });
    const a2 = await signIn(t.app, s.learnerA2.username);
    expect((await a2.get(res.headers.location!)).status).toBe(404);
  });
});

describe('lessons done and courses completed', () => {
  it('when a learner taps "mark as done" twice, then one completion is kept, the first time stays, and they go on to the next lesson', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    const page = await agent.get(`/lessons/${s.text1.id}`);
    expect(page.text).toContain(`<form method="post" action="/lessons/${s.text1.id}/done" data-offline>`);
    const requestId = requestIdOf(page.text);
    const first = await post(agent, `/lessons/${s.text1.id}/done`, { requestId });
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe(`/lessons/${s.text2.id}`);
    const at = (await t.em().findOneOrFail(LessonProgress, { learner: s.learnerA1.id, lesson: s.text1.id })).completedAt;
    const again = await post(agent, `/lessons/${s.text1.id}/done`, { requestId });
    expect(again.status).toBe(303);
    const rows = await t.em().find(LessonProgress, { learner: s.learnerA1.id, lesson: s.text1.id });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.completedAt).toEqual(at);
    const next = await agent.get(first.headers.location!);
    expect(next.text).toContain('“Lesson 1” is done.');
    const course = await agent.get(`/courses/${s.course.id}`);
    expect(course.text).toContain('1 of 3 lessons done');
    // The lessons still to do are the ones a phone keeps for reading offline.
    expect(course.text).toContain(`href="/lessons/${s.text2.id}" data-prefetch`);
    expect(course.text).not.toContain(`href="/lessons/${s.text1.id}" data-prefetch`);
  });

  it('when every lesson is done, then the course is completed once', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    for (const l of [s.text1, s.text2]) await post(agent, `/lessons/${l.id}/done`, { requestId: requestIdOf((await agent.get(`/lessons/${l.id}`)).text) });
    expect(await t.em().count(CourseCompletion, { learner: s.learnerA1.id, course: s.course.id })).toBe(0);
    const last = await post(agent, `/lessons/${s.quiz.id}/quiz`, { requestId: await openQuiz(agent, s.quiz), 'a-q1': 'a', 'a-q2': ['a', 'b'], 'a-q3': 'mera' });
    expect(last.status).toBe(303);
    await post(agent, `/lessons/${s.text2.id}/done`, { requestId: 'l0-a1' });
    expect(await t.em().count(CourseCompletion, { learner: s.learnerA1.id, course: s.course.id })).toBe(1);
    const course = await agent.get(`/courses/${s.course.id}`);
    expect(course.text).toContain('You completed this course on');
    const catalogue = await agent.get('/courses');
    expect(catalogue.text).toContain('3 of 3 lessons done');
    expect(catalogue.text).toContain('Completed');
  });

  it('when a quiz is sent to "mark as done", then it is refused: a quiz is done by passing it', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    const res = await post(agent, `/lessons/${s.quiz.id}/done`, { requestId: 'x' });
    expect(res.status).toBe(409);
    expect(res.text).toContain('A quiz is done when you pass it.');
    expect(await counts(s.learnerA1.id, s.quiz.id)).toMatchObject({ done: false });
  });
});

describe('who may open what', () => {
  it('when a learner whose class does not take the course opens it, then they get 403 and nothing is recorded', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerB1.username);
    expect((await agent.get(`/courses/${s.course.id}`)).status).toBe(403);
    expect((await agent.get(`/lessons/${s.text1.id}`)).status).toBe(403);
    expect((await post(agent, `/lessons/${s.text1.id}/done`, { requestId: 'l1-a1' })).status).toBe(403);
    expect((await post(agent, `/lessons/${s.quiz.id}/quiz`, { requestId: 'l1-a1', 'a-q1': 'a', 'a-q2': 'a', 'a-q3': 'x' })).status).toBe(403);
    expect(await t.em().count(LessonProgress, { learner: s.learnerB1.id })).toBe(0);
    expect((await agent.get('/courses')).text).not.toContain('Greek for pages');
    expect((await agent.get('/lessons/2000000001')).status).toBe(404);
  });

  it('when a teacher opens progress, then they see their own cohort lesson by lesson, and not another one', async () => {
    const s = await arrange();
    const learner = await signIn(t.app, s.learnerA1.username);
    await post(learner, `/lessons/${s.text1.id}/done`, { requestId: 'l1-a1' });
    const url = `/cohorts/${s.cohortA.id}/courses/${s.course.id}/progress`;
    const teacherA = await signIn(t.app, s.teacherA.username);
    const page = await teacherA.get(url);
    expect(page.status).toBe(200);
    expect(page.text).toContain(s.learnerA1.displayName);
    expect(page.text).toContain(s.learnerA2.displayName);
    expect(page.text).toContain('<td>1 / 2</td>');
    expect((await teacherA.get(`/courses/${s.course.id}`)).text).toContain(url);
    const coordinatorA = await signIn(t.app, s.coordinatorA.username);
    expect((await coordinatorA.get(url)).status).toBe(200);
    for (const who of [s.teacherB, s.coordinatorB]) expect((await (await signIn(t.app, who.username)).get(url)).status).toBe(404);
    expect((await learner.get(url)).status).toBe(403);
    // A cohort of their own, but a course it does not take.
    const other = await makeCourse(t.em(), { title: 'Not taken' });
    expect((await teacherA.get(`/cohorts/${s.cohortA.id}/courses/${other.id}/progress`)).status).toBe(404);
  });

  it('when a coordinator offers a course to a cohort of their programme, then its learners may open it; another programme\'s cohort is refused', async () => {
    const s = await arrange();
    const other = await makeCourse(t.em(), { title: 'Soft skills for pages' });
    const coordinatorA = await signIn(t.app, s.coordinatorA.username);
    const refused = await post(coordinatorA, `/courses/${other.id}/offers`, { cohortId: s.cohortB.id });
    expect(refused.status).toBe(422);
    const offered = await post(coordinatorA, `/courses/${other.id}/offers`, { cohortId: s.cohortA.id });
    expect(offered.status).toBe(303);
    const learner = await signIn(t.app, s.learnerA1.username);
    expect((await learner.get(`/courses/${other.id}`)).status).toBe(200);
    await post(coordinatorA, `/courses/${other.id}/offers/${s.cohortA.id}/withdraw`);
    expect((await learner.get(`/courses/${other.id}`)).status).toBe(403);
    const teacher = await signIn(t.app, s.teacherA.username);
    expect((await post(teacher, `/courses/${other.id}/offers`, { cohortId: s.cohortA.id })).status).toBe(403);
  });
});

describe('the learner home', () => {
  it('when a learner signs in, then "continue where you stopped" leads to their first lesson, then to the one they last opened, then past it once done', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    let home = await agent.get('/');
    expect(home.text).toContain('Continue where you stopped');
    expect(home.text).toContain(`href="/lessons/${s.text1.id}"`);
    expect(home.text).toContain('Start: \u2068Lesson 1\u2069');
    await agent.get(`/lessons/${s.text2.id}`);
    home = await agent.get('/');
    expect(home.text).toContain('Continue: \u2068Lesson 2\u2069');
    await post(agent, `/lessons/${s.text2.id}/done`, { requestId: 'l1-a1' });
    home = await agent.get('/');
    expect(home.text).toContain(`href="/lessons/${s.text1.id}"`);
    expect(home.text).toContain('1 of 3 lessons done');
  });

  it('when a teacher signs in, then their home leads to the progress of each class in each course, and a learner with no course has no course section', async () => {
    const s = await arrange();
    const teacherHome = (await (await signIn(t.app, s.teacherA.username)).get('/')).text;
    expect(teacherHome).not.toContain('Continue where you stopped');
    expect(teacherHome).toContain('Progress of your classes');
    expect(teacherHome).toContain(`href="/cohorts/${s.cohortA.id}/courses/${s.course.id}/progress"`);
    expect((await (await signIn(t.app, s.teacherB.username)).get('/')).text).not.toContain(`/courses/${s.course.id}/progress`);
    const loner = await makeUser(t.em(), 'learner');
    expect((await (await signIn(t.app, loner.username)).get('/')).text).not.toContain('Continue where you stopped');
  });
});

describe('low bandwidth', () => {
  async function withMedia(course: Course) {
    const em = t.em();
    const [lesson] = await em.find(Lesson, { course }, { orderBy: { position: 'asc' }, limit: 1 });
    const image = { url: '/media/' + 'c'.repeat(32) + '.webp', srcset: `/media/${'c'.repeat(32)}.webp 320w`, width: 320, height: 200, bytes: 24_000 };
    lesson!.type = 'video';
    lesson!.media = [
      { kind: 'video', url: `/media/${'a'.repeat(32)}.mp4`, mime: 'video/mp4', bytes: 1_800_000, title: 'Two people meet', transcript: 'Γεια σου.', poster: image, image: null },
      { kind: 'audio', url: `/media/${'b'.repeat(32)}.opus`, mime: 'audio/ogg', bytes: 120_000, title: 'Listen', transcript: null, poster: null, image: null },
    ];
    lesson!.bodyHtml = `<p>Text.</p><img src="${image.url}" loading="lazy" alt="map">`;
    lesson!.bodyHtmlDataSaver = `<p>Text.</p><details class="tap"><summary data-image="24000"></summary><img src="${image.url}" loading="lazy" alt="map"></details>`;
    await em.flush();
    return lesson!;
  }

  it('when a lesson has a video and an audio clip, then each shows its size and nothing loads until tapped', async () => {
    const s = await arrange();
    const lesson = await withMedia(s.course);
    const agent = await signIn(t.app, s.learnerA1.username);
    const page = await agent.get(`/lessons/${lesson.id}`);
    expect(plain(page.text)).toContain('Video · 1.8 MB — tap to load');
    expect(plain(page.text)).toContain('Audio · 120 kB — tap to load');
    expect(page.text).not.toContain('<video');
    expect(page.text).not.toContain('poster=');
    expect(page.text).toContain('<audio controls preload="none"');
    const tapped = await agent.get(`/lessons/${lesson.id}?media=0`);
    expect(tapped.text).toMatch(/<video controls preload="none" playsinline src="\/media\/a{32}\.mp4" poster="\/media\/c{32}\.webp">/);
  });

  it('when a learner saves data, then the lesson images are folded behind a tap that says their size', async () => {
    const s = await arrange();
    const lesson = await withMedia(s.course);
    const agent = await signIn(t.app, s.learnerA1.username);
    expect((await agent.get(`/lessons/${lesson.id}`)).text).not.toContain('<details class="tap">');
    await t.em().nativeUpdate(User, { id: s.learnerA1.id }, { dataSaver: true });
    const saver = await signIn(t.app, s.learnerA1.username);
    const page = await saver.get(`/lessons/${lesson.id}`);
    expect(page.text).toContain('<details class="tap"><summary>Image · 24 kB — tap to show</summary>');
  });

  it('when the lesson page has not changed, then asking again with its ETag answers 304 with no body, and the visit still counts', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    const first = await agent.get(`/lessons/${s.text1.id}`);
    expect(first.headers['cache-control']).toBe('no-store');
    const etag = first.headers.etag!;
    expect(etag).toBeTruthy();
    const again = await agent.get(`/lessons/${s.text1.id}`).set('If-None-Match', etag);
    expect(again.status).toBe(304);
    expect(again.text ?? '').toBe('');
    await post(agent, `/lessons/${s.text1.id}/done`, { requestId: requestIdOf(first.text) });
    const changed = await agent.get(`/lessons/${s.text1.id}`).set('If-None-Match', etag);
    expect(changed.status).toBe(200);
    expect(await t.em().count(LessonProgress, { learner: s.learnerA1.id, lesson: s.text1.id })).toBe(1);
  });

  it('when a lesson page is compressed, then its HTML and stylesheet stay far under 14 KB', async () => {
    const s = await arrange();
    const agent = await signIn(t.app, s.learnerA1.username);
    const page = await agent.get(`/lessons/${s.quiz.id}`);
    const css = /href="(\/assets\/dars\.[^"]+\.css)"/.exec(page.text)![1]!;
    const cssRes = await agent.get(css);
    expect(cssRes.headers['cache-control']).toContain('immutable');
    const bytes = gzipSync(page.text).length + gzipSync(cssRes.text).length;
    expect(bytes).toBeLessThan(14 * 1024);
  });

  it('when course media is asked for, then a signed-in person gets it to keep for a year; a stranger is sent to sign in', async () => {
    const s = await arrange();
    const dir = path.join(t.config.dataDir, 'files', 'course-media');
    mkdirSync(dir, { recursive: true });
    const name = `${'d'.repeat(32)}.webp`;
    writeFileSync(path.join(dir, name), Buffer.from('RIFF0000WEBPVP8 '));
    const agent = await signIn(t.app, s.learnerA1.username);
    const res = await agent.get(`/media/${name}`);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect((await agent.get(`/media/${'e'.repeat(32)}.webp`)).status).toBe(404);
    expect((await agent.get('/media/..%2Fsession-secret')).status).toBe(404);
    const { default: request } = await import('supertest');
    expect((await request(t.app).get(`/media/${name}`)).status).toBe(303);
  });

  it('when a lesson is a SCORM package, then its page leads to the SCORM player page', async () => {
    const s = await arrange();
    const em = t.em();
    const scorm = em.create(Lesson, { course: s.course.id, unit: s.text1.unit, slug: 'scorm-pkg', title: 'Package', type: 'scorm', minutes: 20, position: 99, bodyHtml: '', bodyHtmlDataSaver: '', media: [], quiz: null });
    await em.flush();
    const agent = await signIn(t.app, s.learnerA1.username);
    const res = await agent.get(`/lessons/${scorm.id}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/scorm/lessons/${scorm.id}`);
    // Finished in its player, never by a tap.
    expect((await post(agent, `/lessons/${scorm.id}/done`, { requestId: 'l1-a1' })).status).toBe(409);
    expect(await t.em().count(LessonProgress, { learner: s.learnerA1.id, lesson: scorm.id })).toBe(0);
    expect((await (await signIn(t.app, s.learnerB1.username)).get(`/lessons/${scorm.id}`)).status).toBe(403);
  });
});
