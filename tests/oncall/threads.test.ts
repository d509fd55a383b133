import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeThread, makeUser } from '../support/factories.ts';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { User, toActor } from '../../src/accounts/index.ts';
import { Attachment, Message, Notice, Thread } from '../../src/oncall/index.ts';
import { inAppNotices, notifier } from '../../src/oncall/notices.ts';
import { askQuestion } from '../../src/oncall/threads.service.ts';
import { fileStorage } from '../../src/platform/storage.ts';
import { ask, plain, reply, schoolWithLesson, threadIdFrom } from './support.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof schoolWithLesson>>;
beforeAll(async () => {
  t = await bootApp();
  s = await schoolWithLesson(t.em());
});
afterAll(() => t.close());

describe('asking from a lesson and getting an answer', () => {
  it('when a learner asks from a lesson, then the teacher of their class sees it in the inbox, answers, and the learner reads the answer', async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    const sent = await ask(learner, 'lesson', s.lesson.id, { body: 'What does "καλημέρα" mean?\nI do not understand.' });
    expect(sent.status).toBe(303);
    const id = threadIdFrom(sent.headers.location);
    const mine = await learner.get(`/questions/${id}`);
    expect(mine.text).toContain('Your question was sent');
    expect(mine.text).toContain(s.lesson.title);
    expect(mine.text).toContain('What does &quot;καλημέρα&quot; mean?');

    const teacher = await signIn(t.app, s.teacherA.username);
    const home = await teacher.get('/');
    expect(home.text).toMatch(/<span class="badge">1<\/span>/);
    expect(home.text).toContain('1 question waits for an answer');
    const inbox = await teacher.get('/inbox');
    expect(inbox.text).toContain(s.learnerA1.displayName);
    expect(inbox.text).toContain(`href="/lessons/${s.lesson.id}"`);
    expect(inbox.text).toContain('Greek A1');

    const page = await teacher.get(`/questions/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toMatch(/<span class="badge">/);
    const answered = await reply(teacher, id, { body: 'It means "good morning".' });
    expect(answered.status).toBe(303);
    expect(answered.headers.location).toBe(`/questions/${id}#latest`);
    expect((await teacher.get('/inbox')).text).toContain('Answered, last message');

    const again = await learner.get('/');
    expect(again.text).toMatch(/<span class="badge">1<\/span>/);
    const notices = await learner.get('/notices');
    expect(plain(notices)).toContain(`${s.teacherA.displayName} wrote about “${s.lesson.title}”`);
    const thread = await learner.get(`/questions/${id}`);
    expect(thread.text).toContain('It means &quot;good morning&quot;.');
    expect(thread.text).toContain('class="msg from-teacher"');
    expect((await learner.get('/')).text).not.toMatch(/<span class="badge">/);

    const saved = await t.em().findOneOrFail(Thread, id);
    expect(saved.firstAnsweredAt).toBeInstanceOf(Date);
    expect(saved.firstAnsweredBy?.id).toBe(s.teacherA.id);
    expect(saved.waitingSince).toBeNull();
  });

  it('when the question is empty, then the form says so and nothing is stored', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const before = await t.em().count(Thread, {});
    const res = await ask(learner, 'lesson', s.lesson.id, { body: '   ' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Please fill this in.');
    expect(await t.em().count(Thread, {})).toBe(before);
  });

  it('when the question is too long, then the message says how long it may be and the words are kept', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const long = 'ب'.repeat(2001);
    const res = await ask(learner, 'lesson', s.lesson.id, { body: long });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Please use at most 2000 characters.');
    expect(res.text).toContain(long);
  });

  it('when a learner asks about a lesson of a course their class does not study, then it is refused', async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    expect((await learner.get(`/ask/lesson/${s.lessonB.id}`)).status).toBe(403);
    expect((await ask(learner, 'lesson', s.lessonB.id, { body: 'Let me in' })).status).toBe(403);
    expect((await learner.get('/ask/lesson/999999')).status).toBe(404);
    expect((await learner.get('/ask/quiz/1')).status).toBe(404);
  });

  it('when a learner is in two classes that study the course, then they choose whose teachers answer', async () => {
    const em = t.em();
    const learner = await makeUser(em, 'learner');
    const teacher = await makeUser(em, 'teacher');
    const evening = await makeCohort(em, s.programmeA, { teachers: [teacher], learners: [learner], name: 'Evening class' });
    await makeCohort(em, s.programmeA, { learners: [learner], name: 'Unrelated class' });
    const { offerCourse } = await import('../support/factories.ts');
    await offerCourse(em, evening, s.course);
    const { enrol } = await import('../../src/programmes/index.ts');
    await enrol(em, s.cohortA, learner);
    const agent = await signIn(t.app, learner.username);
    const page = await agent.get(`/ask/lesson/${s.lesson.id}`);
    expect(page.text).toContain('Evening class');
    expect(page.text).toContain(s.cohortA.name);
    expect(page.text).not.toContain('Unrelated class');
    const unnamed = await ask(agent, 'lesson', s.lesson.id, { body: 'Which class?' });
    expect(unnamed.status).toBe(422);
    expect(unnamed.text).toContain('Please choose one of the options.');
    expect(unnamed.text).toContain('Which class?');
    const named = await ask(agent, 'lesson', s.lesson.id, { body: 'Which class?', cohortId: String(evening.id) });
    expect(named.status).toBe(303);
    const inbox = await (await signIn(t.app, teacher.username)).get('/inbox');
    expect(inbox.text).toContain('Which class?');
  });

  it('when the inbox has several open questions, then the longest waiting is first and answered ones come after', async () => {
    const em = t.em();
    const teacher = await makeUser(em, 'teacher');
    const learner = await makeUser(em, 'learner');
    const cohort = await makeCohort(em, s.programmeA, { teachers: [teacher], learners: [learner] });
    const at = (h: number) => new Date(Date.UTC(2026, 2, 1, h));
    await makeThread(em, { cohort, learner, openedAt: at(9), body: 'third-waiting' });
    await makeThread(em, { cohort, learner, openedAt: at(1), body: 'answered-one', answeredAt: at(2), answeredBy: teacher });
    await makeThread(em, { cohort, learner, openedAt: at(3), body: 'first-waiting' });
    await makeThread(em, { cohort, learner, openedAt: at(5), body: 'second-waiting' });
    await makeThread(em, { cohort, learner, openedAt: at(0), body: 'resolved-one', resolved: true });
    const text = (await (await signIn(t.app, teacher.username)).get('/inbox')).text;
    const order = ['first-waiting', 'second-waiting', 'third-waiting', 'answered-one'].map((b) => text.indexOf(b));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).not.toContain('resolved-one');
  });

  it('when the teacher marks a thread resolved, then it leaves the inbox, and a follow-up from the learner brings it back', async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    const id = threadIdFrom((await ask(learner, 'lesson', s.lesson.id, { body: 'How do I say thank you?' })).headers.location);
    const teacher = await signIn(t.app, s.teacherA.username);
    await reply(teacher, id, { body: 'Ευχαριστώ.' });
    const resolved = await post(teacher, `/questions/${id}/resolve`);
    expect(resolved.headers.location).toBe('/inbox');
    expect((await teacher.get('/inbox')).text).not.toContain('How do I say thank you?');
    expect(plain(await learner.get(`/questions/${id}`))).toContain(`${s.teacherA.displayName} marked this as resolved`);
    await reply(learner, id, { body: 'And "please"?' });
    const inbox = await teacher.get('/inbox');
    expect(inbox.text).toContain('How do I say thank you?');
    expect(inbox.text).toContain('Waiting since');
  });

  it('when a reply is empty, then the page says what to send and nothing is added', async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    const id = threadIdFrom((await ask(learner, 'lesson', s.lesson.id, { body: 'Empty reply test' })).headers.location);
    const teacher = await signIn(t.app, s.teacherA.username);
    const res = await reply(teacher, id, { body: '' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Please write something or add a voice note or photo.');
    expect(await t.em().count(Message, { thread: id })).toBe(1);
  });
});

describe('the same form sent twice is stored once', () => {
  const photo = (background: string) => sharp({ create: { width: 320, height: 240, channels: 3, background } }).jpeg().toBuffer();
  const keyOf = (html: string) => /name="requestId" value="([^"]+)"/.exec(html)?.[1];

  it('when the same ask form is sent twice (a double tap), then there is one thread with one message', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const form = await learner.get(`/ask/lesson/${s.lesson.id}`);
    const requestId = keyOf(form.text)!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const first = await ask(learner, 'lesson', s.lesson.id, { body: 'Is the test on Friday?', requestId });
    const second = await ask(learner, 'lesson', s.lesson.id, { body: 'Is the test on Friday?', requestId });
    expect([first.status, second.status]).toEqual([303, 303]);
    expect(second.headers.location).toBe(first.headers.location);
    expect(await t.em().count(Message, { thread: threadIdFrom(first.headers.location) })).toBe(1);
    expect(await t.em().count(Thread, { learner: s.learnerA2.id, requestKey: requestId })).toBe(1);
  });

  it('when a learner asks the same words twice from two forms, then both questions are kept', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const first = await ask(learner, 'lesson', s.lesson.id, { body: 'What is the homework?' });
    const second = await ask(learner, 'lesson', s.lesson.id, { body: 'What is the homework?' });
    expect(second.headers.location).not.toBe(first.headers.location);
    expect(await t.em().count(Thread, { learner: s.learnerA2.id, excerpt: 'What is the homework?' })).toBe(2);
  });

  it('when the same words come again at once with a different photo, then both photos are kept', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const first = await ask(learner, 'lesson', s.lesson.id, { body: 'Is this right?' }, [{ buffer: await photo('#aa3344'), name: 'page-1.jpg' }]);
    const second = await ask(learner, 'lesson', s.lesson.id, { body: 'Is this right?' }, [{ buffer: await photo('#3344aa'), name: 'page-2.jpg' }]);
    const ids = [threadIdFrom(first.headers.location), threadIdFrom(second.headers.location)];
    expect(ids[0]).not.toBe(ids[1]);
    const names = (await t.em().find(Attachment, { message: { thread: { $in: ids } } })).map((a) => a.name).sort();
    expect(names).toEqual(['page-1.jpg', 'page-2.jpg']);
    expect((await learner.get(`/questions/${ids[1]}`)).text).toContain(`/questions/${ids[1]}/files/`);
  });

  it('when the same ask form with a photo arrives twice at the same moment, then one thread, one message and one photo are stored', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const requestId = randomUUID();
    const buffer = await photo('#44aa33');
    const sent = await Promise.all([1, 2].map(() => ask(learner, 'lesson', s.lesson.id, { body: 'Sent on a slow line', requestId }, [{ buffer, name: 'slow.jpg' }])));
    expect(sent.map((r) => r.status)).toEqual([303, 303]);
    expect(sent[1]!.headers.location).toBe(sent[0]!.headers.location);
    const id = threadIdFrom(sent[0]!.headers.location);
    expect(await t.em().count(Thread, { learner: s.learnerA2.id, requestKey: requestId })).toBe(1);
    expect(await t.em().count(Message, { thread: id })).toBe(1);
    expect(await t.em().count(Attachment, { message: { thread: id } })).toBe(1);
  });

  it('when two writes of the same question race past the look-up, then the later gives way: one thread, its file kept once, the teachers told once', async () => {
    const actor = toActor(await t.em().findOneOrFail(User, s.learnerA2.id));
    const deps = { notify: notifier([inAppNotices]), storage: fileStorage(t.config.dataDir) };
    const context = { kind: 'lesson' as const, id: s.lesson.id, title: s.lesson.title, courseTitle: 'Greek A1', url: `/lessons/${s.lesson.id}` };
    const files = () => readdirSync(path.join(t.config.dataDir, 'files'), { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).length;
    const input = { body: 'Both at the same moment', requestKey: randomUUID(), attachments: [{ kind: 'photo' as const, mime: 'image/jpeg', name: 'both.jpg', buffer: await photo('#aa9933') }] };
    const filesBefore = files();
    const [a, b] = await Promise.all([askQuestion(t.em(), actor, context, input, deps), askQuestion(t.em(), actor, context, input, deps)]);
    expect(a.id).toBe(b.id);
    expect(await t.em().count(Message, { thread: a.id })).toBe(1);
    expect(await t.em().count(Attachment, { message: { thread: a.id } })).toBe(1);
    expect(await t.em().count(Notice, { thread: a.id, user: s.teacherA.id })).toBe(1);
    expect(files() - filesBefore).toBe(1);
  });

  it('when a reply form is sent twice, then it is one message; two separate "ok" replies are two', async () => {
    const thread = await makeThread(t.em(), { cohort: s.cohortA, learner: s.learnerA1 });
    const teacher = await signIn(t.app, s.teacherA.username);
    const requestId = keyOf((await teacher.get(`/questions/${thread.id}`)).text)!;
    expect((await reply(teacher, thread.id, { body: 'ok', requestId })).status).toBe(303);
    expect((await reply(teacher, thread.id, { body: 'ok', requestId })).status).toBe(303);
    expect(await t.em().count(Message, { thread: thread.id, author: s.teacherA.id })).toBe(1);

    const learner = await signIn(t.app, s.learnerA1.username);
    expect((await reply(learner, thread.id, { body: 'ok' })).status).toBe(303);
    expect((await reply(learner, thread.id, { body: 'ok' })).status).toBe(303);
    expect(await t.em().count(Message, { thread: thread.id, author: s.learnerA1.id, body: 'ok' })).toBe(2);
  });

  it('when the same reply with a voice note arrives twice at the same moment, then it is stored once and the teachers are told once', async () => {
    const thread = await makeThread(t.em(), { cohort: s.cohortA, learner: s.learnerA1 });
    const learner = await signIn(t.app, s.learnerA1.username);
    const requestId = randomUUID();
    const buffer = await photo('#3399aa');
    const sent = await Promise.all([1, 2].map(() => reply(learner, thread.id, { body: 'Here is my page', requestId }, [{ buffer, name: 'page.jpg' }])));
    expect(sent.map((r) => r.status)).toEqual([303, 303]);
    expect(await t.em().count(Message, { thread: thread.id, author: s.learnerA1.id, requestKey: requestId })).toBe(1);
    expect(await t.em().count(Attachment, { message: { thread: thread.id } })).toBe(1);
  });

  it('when a form comes without its key, then it is refused with a message to reload, the words are kept and nothing is stored', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const before = await t.em().count(Message, {});
    let req = learner.post(`/ask/lesson/${s.lesson.id}?_csrf=${learner.csrf}`).field('body', 'A question from an old page');
    const res = await req;
    expect(res.status).toBe(422);
    expect(res.text).toContain('This page is out of date, so nothing was sent.');
    expect(res.text).toContain('A question from an old page');
    expect(keyOf(res.text)).toMatch(/^[0-9a-f-]{36}$/);
    req = learner.post(`/questions/${(await makeThread(t.em(), { cohort: s.cohortA, learner: s.learnerA2 })).id}/messages?_csrf=${learner.csrf}`).field('body', 'x').field('requestId', 'not a key!');
    expect((await req).status).toBe(422);
    expect(await t.em().count(Message, {})).toBe(before + 1);
  });

  it('when a learner opens a lesson, then its ask box carries a key that stays the same until a question is sent with it', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const box = (html: string) => /action="\/ask\/lesson\/\d+\?_csrf=[^"]+"[^>]*>\s*<input type="hidden" name="requestId" value="([^"]+)">/.exec(html)?.[1];
    const first = box((await learner.get(`/lessons/${s.lesson.id}`)).text);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(box((await learner.get(`/lessons/${s.lesson.id}`)).text)).toBe(first);
    const sent = await ask(learner, 'lesson', s.lesson.id, { body: 'From the lesson box', requestId: first! });
    const again = await ask(learner, 'lesson', s.lesson.id, { body: 'From the lesson box', requestId: first! });
    expect(again.headers.location).toBe(sent.headers.location);
    const next = box((await learner.get(`/lessons/${s.lesson.id}`)).text);
    expect(next).toMatch(/^[0-9a-f-]{36}$/);
    expect(next).not.toBe(first);
  });
});
