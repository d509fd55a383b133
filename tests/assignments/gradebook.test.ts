import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Submission } from '../../src/assignments/index.ts';
import { Lesson, recordQuizResult } from '../../src/courses/index.ts';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeCourse, makeSchool, makeUser, offerCourse } from '../support/factories.ts';
import { makeAssignment } from './helpers.ts';

const DAY = 86400_000;
let t: TestApp;
let school: Awaited<ReturnType<typeof makeSchool>>;
beforeAll(async () => {
  t = await bootApp();
  school = await makeSchool(t.em());
});
afterAll(() => t.close());

async function handIn(username: string, assignmentId: number, text: string) {
  const agent = await signIn(t.app, username);
  const res = await agent.post(`/assignments/${assignmentId}/work?_csrf=${agent.csrf}`).field('revision', '0').field('text', text).field('action', 'submit');
  expect(res.status).toBe(303);
}

/** A class of two with one assignment handed in on time and graded, and one overdue. */
async function classWithWork() {
  const em = t.em();
  const teacher = await makeUser(em, 'teacher');
  const amal = await makeUser(em, 'learner', { displayName: 'Amal Book' });
  const behrouz = await makeUser(em, 'learner', { displayName: 'Behrouz Book' });
  const cohort = await makeCohort(em, school.programmeA, { teachers: [teacher], learners: [amal, behrouz] });
  const now = Date.now();
  const essay = await makeAssignment(em, teacher, [cohort], { title: 'Essay', maxPoints: 10, dueAt: new Date(now + 2 * DAY) });
  const letter = await makeAssignment(em, teacher, [cohort], { title: 'Letter', maxPoints: 5, opensAt: new Date(now - 5 * DAY), dueAt: new Date(now - DAY) });
  await handIn(amal.username, essay.id, 'essay by Amal');
  await handIn(behrouz.username, essay.id, 'essay by Behrouz');
  await handIn(amal.username, letter.id, 'late letter');
  const staff = await signIn(t.app, teacher.username);
  const amalEssay = await t.em().findOneOrFail(Submission, { assignment: essay.id, learner: amal.id });
  const behrouzEssay = await t.em().findOneOrFail(Submission, { assignment: essay.id, learner: behrouz.id });
  const amalLetter = await t.em().findOneOrFail(Submission, { assignment: letter.id, learner: amal.id });
  expect((await post(staff, `/submissions/${amalEssay.id}/grade`, { score: '8', feedback: 'good', release: 'on' })).status).toBe(303);
  expect((await post(staff, `/submissions/${amalLetter.id}/grade`, { score: '4', feedback: 'fine', release: 'on' })).status).toBe(303);
  // Behrouz's essay is graded as a draft only.
  expect((await post(staff, `/submissions/${behrouzEssay.id}/grade`, { score: '6', feedback: 'not yet' })).status).toBe(303);
  return { teacher, amal, behrouz, cohort, essay, letter, staff };
}

function csvRows(text: string): string[][] {
  return parse(text.replace(/^\uFEFF/, '')) as string[][];
}

describe('the gradebook', () => {
  it('when a teacher opens the gradebook and its CSV, then each learner has their scores, late and missing work and a total; drafts are marked', async () => {
    const { cohort, staff } = await classWithWork();
    const page = await staff.get(`/gradebook/${cohort.id}`);
    expect(page.status).toBe(200);
    const amalRow = /<tr><th scope="row">Amal Book<\/th>([\s\S]*?)<\/tr>/.exec(page.text)![1]!;
    expect(amalRow).toMatch(/>8<\/a>/);
    expect(amalRow).toMatch(/>4<\/a> <span class="tag late">Late<\/span>/);
    expect(amalRow).toContain('<strong>12</strong> / 15');
    const behrouzRow = /<tr><th scope="row">Behrouz Book<\/th>([\s\S]*?)<\/tr>/.exec(page.text)![1]!;
    expect(behrouzRow).toMatch(/>6<\/a> <span class="tag late">Not released<\/span>/);
    expect(behrouzRow).toContain('Missing');
    expect(behrouzRow).toContain('1 missing');

    const csv = await staff.get(`/gradebook/${cohort.id}/export.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="gradebook-${cohort.id}.csv"`);
    const rows = csvRows(csv.text);
    expect(rows[0]).toEqual(['Learner', 'Username', 'Letter (/5)', 'Essay (/10)', 'Total', 'missing', 'late']);
    const byName = new Map(rows.slice(1).map((r) => [r[0], r]));
    expect(byName.get('Amal Book')!.slice(2)).toEqual(['4 late', '8', '12/15', '0', '1']);
    expect(byName.get('Behrouz Book')!.slice(2)).toEqual(['missing', '6 (not released)', '6/15', '1', '0']);
  });

  it("when quiz scores are asked for, then each quiz of the class's courses is a column with the learner's best score, and other courses stay out", async () => {
    const em = t.em();
    const { cohort, staff, amal, behrouz } = await classWithWork();
    const course = await makeCourse(em, { title: 'Greek for the book', units: [{ lessons: ['text', 'quiz'] }, { lessons: ['quiz'] }] });
    await offerCourse(em, cohort, course);
    const elsewhere = await makeCourse(em, { title: 'Not this class', units: [{ lessons: ['quiz'] }] });
    const [quiz1, quiz2] = await em.find(Lesson, { course: course.id, type: 'quiz' }, { orderBy: { position: 'asc' } });
    const [other] = await em.find(Lesson, { course: elsewhere.id });
    await recordQuizResult(em, amal.id, { id: quiz1!.id, courseId: course.id }, 60, false);
    await recordQuizResult(em, amal.id, { id: quiz1!.id, courseId: course.id }, 90, true);
    await recordQuizResult(em, amal.id, { id: quiz1!.id, courseId: course.id }, 70, true);
    await recordQuizResult(em, behrouz.id, { id: quiz2!.id, courseId: course.id }, 55, false);
    await recordQuizResult(em, amal.id, { id: other!.id, courseId: elsewhere.id }, 100, true);

    const plain = await staff.get(`/gradebook/${cohort.id}`);
    expect(plain.text).not.toContain(quiz1!.title);
    const withQuizzes = await staff.get(`/gradebook/${cohort.id}?quizzes=1`);
    expect(withQuizzes.text).toContain(`${quiz1!.title}<br><small class="muted">Quiz %`);
    expect(withQuizzes.text).toContain(`${quiz2!.title}<br><small class="muted">Quiz %`);
    expect(withQuizzes.text).not.toContain(other!.title);

    const rows = csvRows((await staff.get(`/gradebook/${cohort.id}/export.csv?quizzes=1`)).text);
    expect(rows[0]).toEqual(['Learner', 'Username', 'Letter (/5)', 'Essay (/10)', `Quiz: ${quiz1!.title} (%)`, `Quiz: ${quiz2!.title} (%)`, 'Total', 'missing', 'late']);
    const byName = new Map(rows.slice(1).map((r) => [r[0], r]));
    expect(byName.get('Amal Book')!.slice(4, 6)).toEqual(['90', '']);
    expect(byName.get('Behrouz Book')!.slice(4, 6)).toEqual(['', '55']);
  });

  it('when a title starts like a spreadsheet formula, then the CSV writes it as text', async () => {
    const em = t.em();
    const teacher = await makeUser(em, 'teacher');
    const learner = await makeUser(em, 'learner', { displayName: '=HYPERLINK("http://x.example")' });
    const cohort = await makeCohort(em, school.programmeA, { teachers: [teacher], learners: [learner] });
    await makeAssignment(em, teacher, [cohort], { title: '=1+2' });
    const rows = csvRows((await (await signIn(t.app, teacher.username)).get(`/gradebook/${cohort.id}/export.csv`)).text);
    expect(rows[0]![2]).toBe("'=1+2 (/10)");
    expect(rows[1]![0]).toBe('\'=HYPERLINK("http://x.example")');
  });
});
