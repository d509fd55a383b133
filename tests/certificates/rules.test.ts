import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Certificate, CertificateRule, issueIfEligible } from '../../src/certificates/index.ts';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { arrange, gradedAssignment, issuerOf, setRule, study } from './support.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());

const held = (learnerId: number) => t.em().find(Certificate, { learner: learnerId }, { orderBy: { id: 'asc' } });

describe('when a course is complete for a certificate', () => {
  it('when the course sets no rule and one lesson is left, then no certificate; when it is done, then the learner finds one in "My certificates"', async () => {
    const s = await arrange(t);
    await study(s.em, s.learnerA1.id, s.lessons.slice(0, 2));
    const learner = await signIn(t.app, s.learnerA1.username);
    const before = await learner.get('/certificates');
    expect(before.status).toBe(200);
    expect(before.text).toContain('2 of 3 lessons done');
    expect(await held(s.learnerA1.id)).toHaveLength(0);

    await study(s.em, s.learnerA1.id, s.lessons.slice(2));
    const after = await learner.get('/certificates');
    const [cert] = await held(s.learnerA1.id);
    expect(cert).toBeDefined();
    expect(after.text).toContain('Greek A1: first steps');
    expect(after.text).toContain(`/verify/${cert!.code.slice(0, 4)}-`);
    expect(after.text).not.toContain('2 of 3 lessons done');
  });

  it('when the course asks a quiz average of 80% and the learner scored 70%, then none; after a 90% retake, then one', async () => {
    const s = await arrange(t);
    await setRule(s.em, s.course, { minQuizScore: 80 });
    await study(s.em, s.learnerA1.id, s.lessons, 70);
    expect(await issueIfEligible(t.em(), issuerOf(t), s.learnerA1.id, s.course.id)).toBeNull();
    const learner = await signIn(t.app, s.learnerA1.username);
    expect((await learner.get('/certificates')).text).toContain('Quiz average 70%, at least 80% needed');

    await study(s.em, s.learnerA1.id, s.lessons.filter((l) => l.type === 'quiz'), 90);
    expect(await issueIfEligible(t.em(), issuerOf(t), s.learnerA1.id, s.course.id)).not.toBeNull();
  });

  it('when the course asks an assignment average of 60%, then only released grades count and a low one is not enough', async () => {
    const s = await arrange(t);
    await setRule(s.em, s.course, { minAssignmentScore: 60 });
    await study(s.em, s.learnerA1.id, s.lessons);
    await study(s.em, s.learnerA2.id, s.lessons);
    const issuer = issuerOf(t);
    // Every lesson done, nothing graded yet: the grade is still to come.
    expect(await issueIfEligible(t.em(), issuer, s.learnerA1.id, s.course.id)).toBeNull();

    await gradedAssignment(s.em, { course: s.course, cohort: s.cohortA, teacher: s.teacherA, learner: s.learnerA1, score: 18, released: false });
    expect(await issueIfEligible(t.em(), issuer, s.learnerA1.id, s.course.id)).toBeNull();
    await gradedAssignment(s.em, { course: s.course, cohort: s.cohortA, teacher: s.teacherA, learner: s.learnerA2, score: 10 });
    expect(await issueIfEligible(t.em(), issuer, s.learnerA2.id, s.course.id)).toBeNull();

    await t.em().execute(`UPDATE grades SET released_at = now()`);
    expect(await issueIfEligible(t.em(), issuer, s.learnerA1.id, s.course.id)).not.toBeNull();
    expect(await issueIfEligible(t.em(), issuer, s.learnerA2.id, s.course.id)).toBeNull();
  });

  it('when a lesson is retired from the course, then the lessons left are what counts', async () => {
    const s = await arrange(t);
    await study(s.em, s.learnerA1.id, s.lessons.slice(0, 2));
    await t.em().execute(`UPDATE lessons SET retired = true WHERE id = ?`, [s.lessons[2]!.id]);
    expect(await issueIfEligible(t.em(), issuerOf(t), s.learnerA1.id, s.course.id)).not.toBeNull();
  });

  it('when a coordinator starts a new edition, then a holder of the old one earns one more, and a revoked certificate is not issued again', async () => {
    const s = await arrange(t);
    const issuer = issuerOf(t);
    await study(s.em, s.learnerA1.id, s.lessons);
    await study(s.em, s.learnerA2.id, s.lessons);
    await issueIfEligible(t.em(), issuer, s.learnerA1.id, s.course.id);
    const revoked = await issueIfEligible(t.em(), issuer, s.learnerA2.id, s.course.id);
    await t.em().execute(`UPDATE certificates SET revoked_at = now() WHERE id = ?`, [revoked!.id]);
    expect(await issueIfEligible(t.em(), issuer, s.learnerA2.id, s.course.id)).toBeNull();

    const coordinator = await signIn(t.app, s.coordinatorA.username);
    const form = { minQuizScore: '', minAssignmentScore: '', edition: '1', newEdition: 'on' };
    // Sent twice (a double tap): one new edition, not two.
    expect((await post(coordinator, `/certificates/rules/${s.course.id}`, form)).status).toBe(303);
    expect((await post(coordinator, `/certificates/rules/${s.course.id}`, form)).status).toBe(303);
    expect((await t.em().findOneOrFail(CertificateRule, { course: s.course.id })).edition).toBe(2);

    expect(await issueIfEligible(t.em(), issuer, s.learnerA1.id, s.course.id)).toMatchObject({ edition: 2 });
    expect((await held(s.learnerA1.id)).map((c) => [c.edition, c.revokedAt])).toEqual([
      [1, null],
      [2, null],
    ]);
  });
});

describe("a course's certificate rule", () => {
  it('when a coordinator types a score that is not a percent, then the form says so, keeps the input and stores nothing', async () => {
    const s = await arrange(t);
    const coordinator = await signIn(t.app, s.coordinatorA.username);
    const res = await post(coordinator, `/certificates/rules/${s.course.id}`, { minQuizScore: '150', minAssignmentScore: 'lots', edition: '1' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('The largest allowed value is 100.');
    expect(res.text).toContain('value="150"');
    expect(res.text).toContain('value="lots"');
    expect(await t.em().count(CertificateRule, { course: s.course.id })).toBe(0);

    expect((await post(coordinator, `/certificates/rules/${s.course.id}`, { minQuizScore: '75', minAssignmentScore: '', edition: '1' })).status).toBe(303);
    const page = await coordinator.get('/certificates/rules');
    expect(page.text).toContain('quiz average at least 75%');
  });

  it('when a coordinator of another programme opens or sets the rule of a course they do not offer, then it is not found and nothing changes', async () => {
    const s = await arrange(t);
    const other = await signIn(t.app, s.coordinatorB.username);
    expect((await other.get(`/certificates/rules/${s.course.id}`)).status).toBe(404);
    expect((await post(other, `/certificates/rules/${s.course.id}`, { minQuizScore: '1', edition: '1' })).status).toBe(404);
    expect((await other.get('/certificates/rules')).text).not.toContain('Greek A1: first steps');
    expect(await t.em().count(CertificateRule, { course: s.course.id })).toBe(0);
    const learner = await signIn(t.app, s.learnerA1.username);
    expect([403, 404]).toContain((await learner.get(`/certificates/rules/${s.course.id}`)).status);
  });
});
