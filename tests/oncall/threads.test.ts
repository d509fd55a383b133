import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeThread, makeUser } from '../support/factories.ts';
import { Message, Thread } from '../../src/oncall/index.ts';
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

  it('when the same question is sent twice in a row (a double tap), then there is one thread', async () => {
    const learner = await signIn(t.app, s.learnerA2.username);
    const first = await ask(learner, 'lesson', s.lesson.id, { body: 'Is the test on Friday?' });
    const second = await ask(learner, 'lesson', s.lesson.id, { body: 'Is the test on Friday?' });
    expect(second.headers.location).toBe(first.headers.location);
    expect(await t.em().count(Message, { thread: threadIdFrom(first.headers.location) })).toBe(1);
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
