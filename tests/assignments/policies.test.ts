import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Grade, Submission, SubmissionFile } from '../../src/assignments/index.ts';
import { makeCohort, makeUser } from '../support/factories.ts';
import { post, signIn, type Agent } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeSchool } from '../support/factories.ts';
import { PDF, makeAssignment } from './helpers.ts';

let t: TestApp;
let school: Awaited<ReturnType<typeof makeSchool>>;
beforeAll(async () => {
  t = await bootApp();
  school = await makeSchool(t.em());
});
afterAll(() => t.close());

async function handIn(agent: Agent, assignmentId: number, text: string, file?: { name: string; buffer: Buffer }) {
  let req = agent.post(`/assignments/${assignmentId}/work?_csrf=${agent.csrf}`).field('revision', '0').field('text', text);
  if (file) req = req.attach('files', file.buffer, file.name);
  const res = await req.field('action', 'submit');
  expect(res.status).toBe(303);
}

describe('who may see whose work', () => {
  it("when a learner guesses the ids of another learner's submission and file, then they get 404 and none of it", async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA]);
    const owner = await signIn(t.app, school.learnerA1.username);
    await handIn(owner, a.id, 'my private answer', { name: 'private.pdf', buffer: PDF });
    const submission = await t.em().findOneOrFail(Submission, { assignment: a.id, learner: school.learnerA1.id });
    const file = await t.em().findOneOrFail(SubmissionFile, { submission: submission.id, version: { $ne: null } });

    const classmate = await signIn(t.app, school.learnerA2.username);
    for (const url of [`/assignments/files/${file.id}`, `/assignments/files/${file.id}?inline=1`, `/submissions/${submission.id}`]) {
      const res = await classmate.get(url);
      expect([403, 404], url).toContain(res.status);
      expect(res.text).not.toContain('my private answer');
      expect(res.headers['content-disposition']).toBeUndefined();
    }
    // Their own page of the same assignment shows only their own (empty) work.
    expect((await classmate.get(`/assignments/${a.id}`)).text).not.toContain('my private answer');

    const owned = await owner.get(`/assignments/files/${file.id}`);
    expect(owned.status).toBe(200);
    expect(owned.headers['content-disposition']).toMatch(/^attachment/);
    expect(owned.headers['x-content-type-options']).toBe('nosniff');
  });

  it("when a learner of another programme opens an assignment id that is not theirs, then it does not exist for them", async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA]);
    const outsider = await signIn(t.app, school.learnerB1.username);
    expect((await outsider.get(`/assignments/${a.id}`)).status).toBe(404);
    const res = await outsider.post(`/assignments/${a.id}/work?_csrf=${outsider.csrf}`).field('revision', '0').field('text', 'x').field('action', 'submit');
    expect(res.status).toBe(404);
    expect(await t.em().count(Submission, { assignment: a.id })).toBe(0);
  });

  it('when an assignment has not opened yet, then learners cannot see it', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA], { opensAt: new Date(Date.now() + 86400_000), dueAt: new Date(Date.now() + 3 * 86400_000) });
    const learner = await signIn(t.app, school.learnerA1.username);
    expect((await learner.get(`/assignments/${a.id}`)).status).toBe(404);
    expect((await learner.get('/assignments')).text).not.toContain(a.title);
  });

  it('when a teacher tries to grade, open or release work of a cohort they do not teach, then nothing is seen or changed', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA]);
    await handIn(await signIn(t.app, school.learnerA1.username), a.id, 'work for teacher A', { name: 'w.pdf', buffer: PDF });
    const submission = await t.em().findOneOrFail(Submission, { assignment: a.id, learner: school.learnerA1.id });
    const file = await t.em().findOneOrFail(SubmissionFile, { submission: submission.id, version: { $ne: null } });

    const stranger = await signIn(t.app, school.teacherB.username);
    expect((await stranger.get(`/submissions/${submission.id}`)).status).toBe(404);
    expect((await stranger.get(`/assignments/files/${file.id}`)).status).toBe(404);
    expect((await stranger.get(`/assignments/${a.id}`)).status).toBe(404);
    expect((await post(stranger, `/submissions/${submission.id}/grade`, { score: '10', feedback: 'hacked', release: 'on' })).status).toBe(404);
    expect((await post(stranger, `/submissions/${submission.id}/release`)).status).toBe(404);
    expect((await post(stranger, `/submissions/${submission.id}/return`)).status).toBe(404);
    expect((await post(stranger, `/assignments/${a.id}/release`)).status).toBe(404);
    expect((await post(stranger, `/assignments/${a.id}/extensions`, { learnerId: String(school.learnerA1.id), dueAt: '2030-01-01T10:00' })).status).toBe(404);
    expect((await stranger.get(`/gradebook/${school.cohortA.id}`)).status).toBe(404);
    expect(await t.em().count(Grade, { submission: submission.id })).toBe(0);
    expect((await stranger.get('/assignments')).text).not.toContain(a.title);
  });

  it("when an assignment is shared by two cohorts, then each teacher grades only their own cohort's learners", async () => {
    const em = t.em();
    const otherTeacher = await makeUser(em, 'teacher');
    const otherLearner = await makeUser(em, 'learner');
    const otherCohort = await makeCohort(em, school.programmeA, { teachers: [otherTeacher], learners: [otherLearner] });
    const a = await makeAssignment(em, school.teacherA, [school.cohortA, otherCohort]);
    await handIn(await signIn(t.app, otherLearner.username), a.id, 'from the other class');
    const submission = await t.em().findOneOrFail(Submission, { assignment: a.id, learner: otherLearner.id });

    const teacherA = await signIn(t.app, school.teacherA.username);
    expect((await teacherA.get(`/submissions/${submission.id}`)).status).toBe(404);
    expect((await teacherA.get('/assignments')).text).not.toContain('/submissions/' + submission.id + '"');
    const theirs = await signIn(t.app, otherTeacher.username);
    expect((await theirs.get(`/submissions/${submission.id}`)).text).toContain('from the other class');
  });

  it('when a learner or a coordinator of another programme asks for a gradebook, then they are refused', async () => {
    const learner = await signIn(t.app, school.learnerA1.username);
    expect([403, 404]).toContain((await learner.get(`/gradebook/${school.cohortA.id}`)).status);
    expect([403, 404]).toContain((await learner.get(`/gradebook/${school.cohortA.id}/export.csv`)).status);
    const coordinatorB = await signIn(t.app, school.coordinatorB.username);
    expect((await coordinatorB.get(`/gradebook/${school.cohortA.id}`)).status).toBe(404);
    const coordinatorA = await signIn(t.app, school.coordinatorA.username);
    expect((await coordinatorA.get(`/gradebook/${school.cohortA.id}`)).status).toBe(200);
  });

  it("when a teacher tries to change another teacher's assignment, then it is not found", async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA]);
    const stranger = await signIn(t.app, school.teacherB.username);
    expect((await stranger.get(`/assignments/${a.id}/edit`)).status).toBe(404);
    expect((await post(stranger, `/assignments/${a.id}`, { title: 'Taken over' })).status).toBe(404);
  });
});
