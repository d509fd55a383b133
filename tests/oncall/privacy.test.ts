import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeThread, makeUser } from '../support/factories.ts';
import { Cohort } from '../../src/programmes/index.ts';
import { Message, Thread } from '../../src/oncall/index.ts';
import { reply, schoolWithLesson } from './support.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof schoolWithLesson>>;
let a1Thread: Thread;
let a2Thread: Thread;
let b1Thread: Thread;
beforeAll(async () => {
  t = await bootApp();
  s = await schoolWithLesson(t.em());
  a1Thread = await makeThread(t.em(), { cohort: s.cohortA, learner: s.learnerA1, body: 'A1 private question about my family' });
  a2Thread = await makeThread(t.em(), { cohort: s.cohortA, learner: s.learnerA2, body: 'A2 private question about my papers' });
  b1Thread = await makeThread(t.em(), { cohort: s.cohortB, learner: s.learnerB1, body: 'B1 private question' });
});
afterAll(() => t.close());

describe('a question is seen only by the learner who asked and the teachers of their class', () => {
  it("when a learner opens another learner's thread by id, then it does not exist for them and they cannot write in it", async () => {
    const learner = await signIn(t.app, s.learnerA1.username);
    expect((await learner.get(`/questions/${a1Thread.id}`)).status).toBe(200);
    for (const other of [a2Thread, b1Thread]) {
      const res = await learner.get(`/questions/${other.id}`);
      expect(res.status).toBe(404);
      expect(res.text).not.toContain('private question');
      expect((await reply(learner, other.id, { body: 'Let me in' })).status).toBe(404);
      expect((await post(learner, `/questions/${other.id}/resolve`)).status).toBe(404);
    }
    const list = await learner.get('/questions');
    expect(list.text).toContain('A1 private question');
    expect(list.text).not.toContain('A2 private question');
    expect(await t.em().count(Message, { thread: { $in: [a2Thread.id, b1Thread.id] } })).toBe(2);
    expect((await t.em().findOneOrFail(Thread, a2Thread.id)).status).toBe('open');
  });

  it("when a teacher looks at their inbox, then only their classes' threads are there, and another class's thread cannot be read or answered", async () => {
    const teacher = await signIn(t.app, s.teacherA.username);
    const inbox = await teacher.get('/inbox');
    expect(inbox.text).toContain('A1 private question');
    expect(inbox.text).toContain('A2 private question');
    expect(inbox.text).not.toContain('B1 private question');
    expect((await teacher.get(`/questions/${b1Thread.id}`)).status).toBe(404);
    expect((await reply(teacher, b1Thread.id, { body: 'Not my class' })).status).toBe(404);
    expect((await post(teacher, `/questions/${b1Thread.id}/resolve`)).status).toBe(404);
    const b1 = await t.em().findOneOrFail(Thread, b1Thread.id);
    expect(b1.firstAnsweredAt).toBeNull();
    expect(b1.status).toBe('open');
  });

  it('when a teacher is taken off a class, then its threads leave their inbox', async () => {
    const em = t.em();
    const teacher = await makeUser(em, 'teacher');
    const cohort = await em.findOneOrFail(Cohort, s.cohortA.id, { populate: ['teachers'] });
    cohort.teachers.add(teacher);
    await em.flush();
    const agent = await signIn(t.app, teacher.username);
    expect((await agent.get(`/questions/${a1Thread.id}`)).status).toBe(200);
    cohort.teachers.remove(teacher);
    await em.flush();
    expect((await agent.get(`/questions/${a1Thread.id}`)).status).toBe(404);
    expect((await agent.get('/inbox')).text).not.toContain('A1 private question');
  });

  it('when a coordinator or an admin opens a thread by id, then they do not read the words: they see figures only', async () => {
    for (const who of [s.coordinatorA, s.admin]) {
      const agent = await signIn(t.app, who.username);
      expect((await agent.get(`/questions/${a1Thread.id}`)).status).toBe(404);
      expect((await agent.get('/inbox')).status).toBe(403);
      expect((await agent.get('/response-times')).text).not.toContain('private question');
    }
  });

  it('when a teacher or coordinator tries to ask a question, or a learner opens the inbox, rota or figures, then it is forbidden', async () => {
    const teacher = await signIn(t.app, s.teacherA.username);
    expect((await teacher.get(`/ask/lesson/${s.lesson.id}`)).status).toBe(403);
    expect((await teacher.get('/questions')).status).toBe(403);
    const learner = await signIn(t.app, s.learnerA1.username);
    for (const url of ['/inbox', '/rota', '/response-times']) expect((await learner.get(url)).status, url).toBe(403);
    expect((await post(learner, '/announcements', { cohortId: s.cohortA.id, body: 'I am a teacher now' })).status).toBe(403);
    expect((await post(learner, '/rota', { cohortId: s.cohortA.id, weekday: 1, start: '10:00', end: '11:00' })).status).toBe(403);
  });
});
