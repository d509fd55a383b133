import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Assignment } from '../../src/assignments/index.ts';
import { formatDateTime } from '../../src/platform/views.ts';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeSchool, makeUser } from '../support/factories.ts';

let t: TestApp;
let school: Awaited<ReturnType<typeof makeSchool>>;
beforeAll(async () => {
  t = await bootApp();
  school = await makeSchool(t.em());
});
afterAll(() => t.close());

const text = (html: string) => html.replace(/[\u2068\u2069]/g, '');

function form(cohortId: number, over: Record<string, string | string[]> = {}) {
  return {
    title: 'Μια μέρα στην αγορά',
    instructions: 'Write **five** sentences.\n\n<script>alert(1)</script><img src=x onerror=alert(1)>',
    cohortIds: String(cohortId),
    opensAt: '2026-01-05T08:00',
    dueAt: '2027-01-15T23:59',
    cutoffAt: '',
    forms: ['text', 'photo'],
    maxFiles: '2',
    maxFileMb: '5',
    grading: 'rubric',
    maxPoints: '',
    rubric: 'Grammar: Many mistakes = 0; Almost none = 4\nContent: Thin = 1; Rich = 3',
    ...over,
  };
}

describe('setting work', () => {
  it('when a teacher in Athens sets work due at 23:59, then it is due at that Athens minute, and a learner in Jakarta reads it in Jakarta time', async () => {
    const em = t.em();
    const teacher = await makeUser(em, 'teacher', { timeZone: 'Europe/Athens' });
    const learner = await makeUser(em, 'learner', { timeZone: 'Asia/Jakarta' });
    const cohort = await makeCohort(em, school.programmeA, { teachers: [teacher], learners: [learner] });
    const agent = await signIn(t.app, teacher.username);
    const res = await post(agent, '/assignments', form(cohort.id));
    expect(res.status).toBe(303);
    const a = await t.em().findOneOrFail(Assignment, { title: 'Μια μέρα στην αγορά' });
    expect(res.headers.location).toBe(`/assignments/${a.id}`);
    // Athens is UTC+2 in January.
    expect(a.dueAt.toISOString()).toBe('2027-01-15T21:59:00.000Z');
    expect(a.maxPoints).toBe(7);
    expect(a.rubric!.criteria.map((c) => c.title)).toEqual(['Grammar', 'Content']);
    expect(a.instructionsHtml).toContain('<strong>five</strong>');
    expect(a.instructionsHtml).not.toMatch(/<script|onerror/);

    const reader = await signIn(t.app, learner.username);
    const inJakarta = formatDateTime(a.dueAt, 'en', 'Asia/Jakarta');
    expect(inJakarta).toContain('Jan 16, 2027');
    expect(text((await reader.get('/assignments')).text)).toContain(inJakarta);
    const page = text((await reader.get(`/assignments/${a.id}`)).text);
    expect(page).toContain(inJakarta);
    expect(page).toContain('<strong>five</strong>');
    expect(page).not.toContain('<script>alert(1)</script>');
    // The teacher edits in their own zone: the form gives back 23:59.
    expect((await agent.get(`/assignments/${a.id}/edit`)).text).toContain('value="2027-01-15T23:59"');
  });

  it('when the dates are in the wrong order, then each is named beside its field, the words are kept and nothing is stored', async () => {
    const agent = await signIn(t.app, school.teacherA.username);
    const before = await t.em().count(Assignment, {});
    const dueFirst = await post(agent, '/assignments', form(school.cohortA.id, { title: 'Kept title one', dueAt: '2025-12-01T10:00' }));
    expect(dueFirst.status).toBe(422);
    expect(dueFirst.text).toContain('The due date must not be before the opening date.');
    expect(dueFirst.text).toContain('Kept title one');
    const cutoffFirst = await post(agent, '/assignments', form(school.cohortA.id, { title: 'Kept title two', cutoffAt: '2027-01-10T10:00' }));
    expect(cutoffFirst.status).toBe(422);
    expect(cutoffFirst.text).toContain('The last moment to hand in must not be before the due date.');
    expect(cutoffFirst.text).toContain('Kept title two');
    expect(await t.em().count(Assignment, {})).toBe(before);
  });

  it('when a teacher sets work for a class they do not teach, then it is refused and nothing is stored', async () => {
    const agent = await signIn(t.app, school.teacherA.username);
    const before = await t.em().count(Assignment, {});
    const res = await post(agent, '/assignments', form(school.cohortB.id, { title: 'For the wrong class' }));
    expect(res.status).toBe(422);
    expect(res.text).toContain('Please choose at least one of your classes.');
    expect(res.text).toContain('For the wrong class');
    expect(await t.em().count(Assignment, {})).toBe(before);
  });
});
