import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedbackNotice, Grade, GradeChange, Submission } from '../../src/assignments/index.ts';
import { makeUser } from '../support/factories.ts';
import { csrfFrom, post, signIn, type Agent } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeSchool } from '../support/factories.ts';
import { RUBRIC, makeAssignment } from './helpers.ts';

let t: TestApp;
let school: Awaited<ReturnType<typeof makeSchool>>;
beforeAll(async () => {
  t = await bootApp();
  school = await makeSchool(t.em());
});
afterAll(() => t.close());

async function handIn(username: string, assignmentId: number, text: string) {
  const agent = await signIn(t.app, username);
  const page = await agent.get(`/assignments/${assignmentId}`);
  const revision = /name="revision" value="(\d+)"/.exec(page.text)?.[1] ?? '0';
  const res = await agent.post(`/assignments/${assignmentId}/work?_csrf=${agent.csrf}`).field('revision', revision).field('text', text).field('action', 'submit');
  expect(res.status).toBe(303);
  return agent;
}
const submissionOf = (assignmentId: number, learnerId: number) => t.em().findOneOrFail(Submission, { assignment: assignmentId, learner: learnerId });

describe('the queue', () => {
  it('when work waits, then ungraded work comes first with the oldest due date first, and each assignment shows its counts', async () => {
    const now = Date.now();
    const em = t.em();
    const teacher = await makeUser(em, 'teacher');
    const l1 = await makeUser(em, 'learner', { displayName: 'Learner One' });
    const l2 = await makeUser(em, 'learner', { displayName: 'Learner Two' });
    const l3 = await makeUser(em, 'learner', { displayName: 'Learner Three' });
    const { makeCohort } = await import('../support/factories.ts');
    const cohort = await makeCohort(em, school.programmeA, { teachers: [teacher], learners: [l1, l2, l3] });
    const later = await makeAssignment(em, teacher, [cohort], { title: 'Due later', dueAt: new Date(now + 5 * 86400_000) });
    const sooner = await makeAssignment(em, teacher, [cohort], { title: 'Due sooner', opensAt: new Date(now - 9 * 86400_000), dueAt: new Date(now - 86400_000) });
    await handIn(l1.username, later.id, 'a');
    await handIn(l1.username, sooner.id, 'b');
    await handIn(l2.username, sooner.id, 'c');

    const agent = await signIn(t.app, teacher.username);
    const queue = (await agent.get('/assignments')).text;
    const toGrade = queue.slice(queue.indexOf('Waiting to be graded'), queue.indexOf('Your assignments'));
    expect(toGrade.indexOf('Due sooner')).toBeLessThan(toGrade.indexOf('Due later'));
    expect(toGrade.match(/\/submissions\/\d+/g)).toHaveLength(3);
    // Due sooner: 2 of 3 handed in, both late, 1 missing.
    expect(queue).toMatch(/Due sooner<\/a>.*?<\/td><td>2 \/ 3<\/td><td>0<\/td><td>1<\/td><td>2<\/td>/s);
    expect(queue).toMatch(/Due later<\/a>.*?<\/td><td>1 \/ 3<\/td><td>0<\/td><td>0<\/td><td>0<\/td>/s);

    // Graded work leaves the waiting list for the "not released" one.
    const s = await submissionOf(sooner.id, l1.id);
    await post(agent, `/submissions/${s.id}/grade`, { score: '7', feedback: 'ok' });
    const after = (await agent.get('/assignments')).text;
    expect(after.slice(after.indexOf('Waiting to be graded'), after.indexOf('Graded, not released yet')).match(/\/submissions\/\d+/g)).toHaveLength(2);
    expect(after).toContain('Graded, not released yet');
    const home = await agent.get('/');
    expect(home.text).toContain('2 pieces of work to grade');
  });
});

describe('grading with a rubric, releasing, feedback', () => {
  it('when a grade is saved but not released, then the learner sees no score on the page nor in their CSV', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA], { title: 'Hidden grade' });
    const learner = await handIn(school.learnerA1.username, a.id, 'my work');
    const s = await submissionOf(a.id, school.learnerA1.id);
    const teacher = await signIn(t.app, school.teacherA.username);
    const saved = await post(teacher, `/submissions/${s.id}/grade`, { score: '9', feedback: 'SECRET-FEEDBACK-WORDS' });
    expect(saved.status).toBe(303);
    expect((await teacher.get(`/submissions/${s.id}`)).text).toContain('The grade was saved as a draft');

    const page = await learner.get(`/assignments/${a.id}`);
    expect(page.text).not.toContain('SECRET-FEEDBACK-WORDS');
    expect(page.text).not.toContain('9 of 10 points');
    expect(page.text).not.toContain('Your grade');
    const list = await learner.get('/assignments');
    expect(list.text).not.toContain('9 of 10');
    const csv = await learner.get('/assignments/grades.csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.text).toContain('Hidden grade');
    expect(csv.text).not.toContain('9/10');
    expect(csv.text).not.toContain('SECRET-FEEDBACK-WORDS');
    expect(await t.em().count(FeedbackNotice, { learner: school.learnerA1.id, assignment: a.id })).toBe(0);

    await post(teacher, `/submissions/${s.id}/release`);
    const released = await learner.get(`/assignments/${a.id}`);
    expect(released.text).toContain('SECRET-FEEDBACK-WORDS');
    expect((await learner.get('/assignments/grades.csv')).text).toContain('9/10');
  });

  it('when a teacher grades with a rubric and releases all, then the learner gets a notice and sees the levels, score and feedback', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA], { title: 'Rubric work', rubric: RUBRIC });
    const learner = await handIn(school.learnerA2.username, a.id, 'rubric answer');
    const s = await submissionOf(a.id, school.learnerA2.id);
    const teacher = await signIn(t.app, school.teacherA.username);
    const page = await teacher.get(`/submissions/${s.id}`);
    expect(page.text).toContain('rubric answer');
    expect(page.text).toContain('name="level_c1"');

    const missing = await post(teacher, `/submissions/${s.id}/grade`, { level_c1: 'l2', feedback: 'Nice ideas.' });
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('Please choose a level for “');
    expect(missing.text).toContain('Nice ideas.');

    expect((await post(teacher, `/submissions/${s.id}/grade`, { level_c1: 'l2', level_c2: 'l1', feedback: 'Nice ideas. Check spelling.' })).status).toBe(303);
    const grade = await t.em().findOneOrFail(Grade, { submission: s.id });
    expect(grade.score).toBe(4);
    expect(grade.rubricLevels).toEqual({ c1: 'l2', c2: 'l1' });

    const released = await post(teacher, `/assignments/${a.id}/release`);
    expect(released.status).toBe(303);
    expect((await teacher.get(`/assignments/${a.id}`)).text).toContain('1 grade was released.');

    const home = await learner.get('/');
    expect(home.text).toContain('New feedback on 1 assignment');
    const view = await learner.get(`/assignments/${a.id}`);
    expect(view.text).toContain('4 of 7 points');
    expect(view.text).toMatch(/Content<\/td><td>Rich<\/td><td>4 \/ 4/);
    expect(view.text).toMatch(/Spelling<\/td><td>Many mistakes<\/td><td>0 \/ 3/);
    expect(view.text).toContain('Nice ideas. Check spelling.');
    // Reading it clears the notice.
    expect((await learner.get('/')).text).not.toContain('New feedback');
  });

  it('when a teacher returns work, then the learner may hand in again even without resubmission, and both versions stay', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA], { title: 'Returned work' });
    const learner = await handIn(school.learnerA1.username, a.id, 'first try');
    const s = await submissionOf(a.id, school.learnerA1.id);
    const teacher = await signIn(t.app, school.teacherA.username);
    await post(teacher, `/submissions/${s.id}/grade`, { score: '3', feedback: 'Please add an ending.', release: 'on' });
    expect((await post(teacher, `/submissions/${s.id}/return`)).status).toBe(303);

    const page = await learner.get(`/assignments/${a.id}`);
    expect(page.text).toContain('Your teacher returned this work');
    expect(page.text).toContain('Please add an ending.');
    learner.csrf = csrfFrom(page.text);
    await handIn(school.learnerA1.username, a.id, 'second try with an ending');
    const after = await submissionOf(a.id, school.learnerA1.id);
    expect(after.submittedVersion).toBe(2);
    expect(after.status).toBe('submitted');
    const grading = await teacher.get(`/submissions/${s.id}`);
    expect(grading.text).toContain('second try with an ending');
    expect(grading.text).toContain('a newer version is waiting');
    const actions = (await t.em().find(GradeChange, { submission: s.id }, { orderBy: { id: 'asc' } })).map((c) => c.action);
    expect(actions).toEqual(['release', 'return']);
  });

  it('when two teachers save a grade at the same moment, then the last save stands and the history holds both, chained', async () => {
    const em = t.em();
    const coTeacher = await makeUser(em, 'teacher');
    const { Cohort } = await import('../../src/programmes/index.ts');
    const cohort = await em.findOneOrFail(Cohort, school.cohortA.id, { populate: ['teachers'] });
    cohort.teachers.add(coTeacher);
    await em.flush();
    const a = await makeAssignment(em, school.teacherA, [school.cohortA]);
    await handIn(school.learnerA2.username, a.id, 'contested');
    const s = await submissionOf(a.id, school.learnerA2.id);
    const one = await signIn(t.app, school.teacherA.username);
    const two = await signIn(t.app, coTeacher.username);
    for (let round = 0; round < 3; round++) {
      await Promise.all([post(one, `/submissions/${s.id}/grade`, { score: '6', feedback: `one ${round}` }), post(two, `/submissions/${s.id}/grade`, { score: '8', feedback: `two ${round}` })]);
    }
    const changes = await t.em().find(GradeChange, { submission: s.id }, { orderBy: { id: 'asc' } });
    expect(changes).toHaveLength(6);
    expect(changes[0]!.oldValue).toBeNull();
    for (let i = 1; i < changes.length; i++) expect(changes[i]!.oldValue).toEqual(changes[i - 1]!.newValue);
    const grade = await t.em().findOneOrFail(Grade, { submission: s.id });
    const last = changes.at(-1)!;
    expect({ score: grade.score, feedback: grade.feedback }).toEqual({ score: last.newValue!.score, feedback: last.newValue!.feedback });
    expect(grade.revision).toBe(6);
  });

  it('when a teacher saves over a grade someone else changed after their page loaded, then they are told and the history keeps it', async () => {
    const em = t.em();
    const coTeacher = await makeUser(em, 'teacher');
    const { Cohort } = await import('../../src/programmes/index.ts');
    const cohort = await em.findOneOrFail(Cohort, school.cohortA.id, { populate: ['teachers'] });
    cohort.teachers.add(coTeacher);
    await em.flush();
    const a = await makeAssignment(em, school.teacherA, [school.cohortA]);
    await handIn(school.learnerA1.username, a.id, 'x');
    const s = await submissionOf(a.id, school.learnerA1.id);
    const one = await signIn(t.app, school.teacherA.username);
    const two = await signIn(t.app, coTeacher.username);
    await post(two, `/submissions/${s.id}/grade`, { score: '5', feedback: 'from two' });
    const res = await post(one, `/submissions/${s.id}/grade`, { score: '7', feedback: 'from one', seenRevision: '0' });
    expect(res.status).toBe(303);
    expect((await one.get(`/submissions/${s.id}`)).text).toMatch(/had changed this grade while you were working/);
  });

  it('when a teacher keeps a comment in the bank and picks it later, then it is added to the feedback', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA]);
    await handIn(school.learnerA2.username, a.id, 'y');
    const s = await submissionOf(a.id, school.learnerA2.id);
    const teacher = await signIn(t.app, school.teacherA.username);
    expect((await post(teacher, '/assignments/comments', { text: 'Remember capital letters.', next: `/submissions/${s.id}` })).headers.location).toBe(`/submissions/${s.id}`);
    const page = await teacher.get(`/submissions/${s.id}`);
    const id = /<option value="(\d+)" data-text="Remember capital letters.">/.exec(page.text)![1]!;
    await post(teacher, `/submissions/${s.id}/grade`, { score: '8', feedback: 'Good story.', bankCommentId: id });
    expect((await t.em().findOneOrFail(Grade, { submission: s.id })).feedback).toBe('Good story.\n\nRemember capital letters.');
    const outsider = await signIn(t.app, school.teacherB.username);
    expect((await post(outsider, `/assignments/comments/${id}/delete`)).status).toBe(404);
  });

  it('when a score is above the maximum, then the form says so and keeps the feedback', async () => {
    const a = await makeAssignment(t.em(), school.teacherA, [school.cohortA]);
    await handIn(school.learnerA1.username, a.id, 'z');
    const s = await submissionOf(a.id, school.learnerA1.id);
    const teacher = await signIn(t.app, school.teacherA.username);
    const res = await post(teacher, `/submissions/${s.id}/grade`, { score: '11', feedback: 'kept words' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('The largest allowed value is');
    expect(res.text).toContain('kept words');
    expect(await t.em().count(Grade, { submission: s.id })).toBe(0);
  });
});
