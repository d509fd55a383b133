import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/accounts/index.ts';
import { DueExtension, Grade, Submission, SubmissionVersion, type Assignment } from '../../src/assignments/index.ts';
import type { Cohort } from '../../src/programmes/index.ts';
import { signIn, type Agent } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeProgramme, makeUser } from '../support/factories.ts';
import { makeAssignment } from './helpers.ts';

const DAY = 86400_000;
const pad = (n: number) => String(n).padStart(3, '0');

let t: TestApp;
let teacher: User;
let agent: Agent;
let first: Assignment;
let second: Assignment;
let third: Assignment;
/** Learners of the teacher's two cohorts: 30 in cohort A, then 20 in cohort B. */
let learners: User[];
const submissionIds = new Map<string, number>();

/**
 * Hands in work straight into the tables: `version` versions, the latest `lateSeconds` late,
 * handed in at `at`, graded for `gradedVersion` (released or not) when given.
 */
async function work(assignment: Assignment, learner: User, cohort: Cohort, at: Date, opts: { version?: number; lateSeconds?: number; gradedVersion?: number; released?: boolean } = {}) {
  const em = t.em();
  const version = opts.version ?? 1;
  const submission = em.create(Submission, { assignment, learner, cohort, status: 'submitted', submittedVersion: version, lastSubmittedAt: at, revision: version });
  for (let n = 1; n <= version; n++) {
    em.create(SubmissionVersion, { submission, number: n, text: `work ${n}`, submittedAt: at, dueAt: assignment.dueAt, lateSeconds: n === version ? (opts.lateSeconds ?? 0) : 0 });
  }
  if (opts.gradedVersion) {
    em.create(Grade, { submission, versionNumber: opts.gradedVersion, score: 5, feedback: '', gradedBy: teacher, gradedAt: at, releasedAt: opts.released ? at : null, revision: 1 });
  }
  await em.flush();
  submissionIds.set(`${assignment.id}:${learner.id}`, submission.id);
}

/*
 * 120 pieces of work in the teacher's view across 3 assignments, worked out by hand:
 * - First (due 2 days ago; cohorts A, B and another teacher's C): 45 of 50 handed in; 20 graded
 *   (10 released); 10 late; of the 5 who handed nothing in, one has an extension to 10 days ahead,
 *   so 4 missing. One ungraded learner has an extension too, which puts them last in the queue.
 * - Second (due yesterday; A and B): 45 of 50 handed in; 16 grades, one for an earlier version of
 *   resubmitted work, so 15 graded (none released); 5 late; 5 missing.
 * - Third (due in 3 days; A): 30 of 30 handed in, nothing graded, nothing late or missing.
 * Waiting to be graded: 25 + 30 + 30 = 85. Graded, not released: 10 + 15 = 25.
 */
beforeAll(async () => {
  t = await bootApp();
  const em = t.em();
  const now = Date.now();
  teacher = await makeUser(em, 'teacher');
  const otherTeacher = await makeUser(em, 'teacher');
  const programme = await makeProgramme(em, []);
  const inA: User[] = [];
  const inB: User[] = [];
  const inC: User[] = [];
  for (let i = 0; i < 30; i++) inA.push(await makeUser(em, 'learner', { displayName: `Learner A${pad(i)}` }));
  for (let i = 0; i < 20; i++) inB.push(await makeUser(em, 'learner', { displayName: `Learner B${pad(i)}` }));
  for (let i = 0; i < 5; i++) inC.push(await makeUser(em, 'learner', { displayName: `Learner C${pad(i)}` }));
  const cohortA = await makeCohort(em, programme, { teachers: [teacher], learners: inA });
  const cohortB = await makeCohort(em, programme, { teachers: [teacher], learners: inB });
  const cohortC = await makeCohort(em, programme, { teachers: [otherTeacher], learners: inC });
  learners = [...inA, ...inB];
  const cohortOf = (i: number) => (i < 30 ? cohortA : cohortB);

  first = await makeAssignment(em, teacher, [cohortA, cohortB, cohortC], { title: 'First essay', opensAt: new Date(now - 9 * DAY), dueAt: new Date(now - 2 * DAY) });
  second = await makeAssignment(em, teacher, [cohortA, cohortB], { title: 'Second essay', opensAt: new Date(now - 9 * DAY), dueAt: new Date(now - DAY), resubmissionAllowed: true });
  third = await makeAssignment(em, teacher, [cohortA], { title: 'Third essay', dueAt: new Date(now + 3 * DAY) });
  // Handed in a second apart, in learner order: the queue's order within one due date is knowable.
  const at = (i: number) => new Date(now - 3 * DAY + i * 1000);

  for (let i = 0; i < 45; i++) {
    await work(first, learners[i]!, cohortOf(i), at(i), { gradedVersion: i < 20 ? 1 : undefined, released: i < 10, lateSeconds: i >= 20 && i < 30 ? 3600 : 0 });
  }
  em.create(DueExtension, { assignment: first, learner: learners[44]!, dueAt: new Date(now + 10 * DAY), grantedBy: teacher });
  em.create(DueExtension, { assignment: first, learner: learners[49]!, dueAt: new Date(now + 10 * DAY), grantedBy: teacher });
  await em.flush();
  for (let i = 0; i < 5; i++) await work(first, inC[i]!, cohortC, at(i));
  for (let i = 0; i < 45; i++) {
    await work(second, learners[i]!, cohortOf(i), at(i), { version: i === 15 ? 2 : 1, gradedVersion: i <= 15 ? 1 : undefined, lateSeconds: i >= 40 ? 600 : 0 });
  }
  for (let i = 0; i < 30; i++) await work(third, inA[i]!, cohortA, at(i));
  agent = await signIn(t.app, teacher.username);
});
afterAll(() => t.close());

/** The waiting part of the page, with the entities Handlebars writes in attributes read back. */
const waiting = (html: string) => html.slice(html.indexOf('Waiting to be graded'), html.indexOf('Your assignments')).replaceAll('&#x3D;', '=').replaceAll('&amp;', '&');
const toGradeList = (html: string) => waiting(html).slice(0, waiting(html).indexOf('</ul>'));
const linksIn = (html: string) => [...html.matchAll(/\/submissions\/(\d+)/g)].map((m) => Number(m[1]));
const idOf = (a: Assignment, learner: User) => submissionIds.get(`${a.id}:${learner.id}`)!;

describe('the queue at a larger size', () => {
  it('when 120 pieces of work are in view, then each assignment shows the counts worked out by hand', async () => {
    const page = (await agent.get('/assignments')).text;
    expect(page).toMatch(/First essay<\/a>.*?<\/td><td>45 \/ 50<\/td><td>20<\/td><td>4<\/td><td>10<\/td>/s);
    expect(page).toMatch(/Second essay<\/a>.*?<\/td><td>45 \/ 50<\/td><td>15<\/td><td>5<\/td><td>5<\/td>/s);
    expect(page).toMatch(/Third essay<\/a>.*?<\/td><td>30 \/ 30<\/td><td>0<\/td><td>0<\/td><td>0<\/td>/s);
    const home = await agent.get('/');
    expect(home.text).toContain('85 pieces of work to grade');
  });

  it('when more than a page waits, then the first 50 show, oldest due first, with a link to the rest that works without scripts', async () => {
    const page = (await agent.get('/assignments')).text;
    const ids = linksIn(toGradeList(page));
    expect(ids).toHaveLength(50);
    // First essay's 24 ungraded (learners 20–43; 44 has an extension), then Second essay's from learner 15 on.
    expect(ids.slice(0, 24)).toEqual(learners.slice(20, 44).map((l) => idOf(first, l)));
    expect(ids.slice(24)).toEqual(learners.slice(15, 41).map((l) => idOf(second, l)));
    expect(waiting(page)).toContain('1–50 of 85');
    expect(waiting(page)).toContain('href="/assignments?page=2#to-grade"');
    expect(page).not.toContain('Back to the first ones');
    // The other teacher's learners never appear.
    expect(page).not.toContain('Learner C');
    // 25 graded, not released: one page, no pager.
    const toRelease = page.slice(page.indexOf('Graded, not released yet'), page.indexOf('Your assignments'));
    expect(linksIn(toRelease)).toHaveLength(25);
    expect(toRelease).not.toContain('of 25');
  });

  it('when the teacher follows the link, then the rest show, the extended work last, and the way back to the first page', async () => {
    const page = (await agent.get('/assignments?page=2')).text;
    const ids = linksIn(toGradeList(page));
    expect(ids).toEqual([...learners.slice(41, 45).map((l) => idOf(second, l)), ...learners.slice(0, 30).map((l) => idOf(third, l)), idOf(first, learners[44]!)]);
    expect(waiting(page)).toContain('51–85 of 85');
    expect(waiting(page)).not.toContain('Show more');
    expect(waiting(page)).toContain('href="/assignments#to-grade"');
    // The counts do not depend on the page.
    expect(page).toMatch(/First essay<\/a>.*?<\/td><td>45 \/ 50<\/td><td>20<\/td><td>4<\/td><td>10<\/td>/s);
  });

  it('when the page asked for is not a number or past the end, then the first or the last page shows', async () => {
    const nonsense = (await agent.get('/assignments?page=abc')).text;
    expect(waiting(nonsense)).toContain('1–50 of 85');
    const beyond = (await agent.get('/assignments?page=40')).text;
    expect(waiting(beyond)).toContain('51–85 of 85');
  });
});
