import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeSchool, makeUser } from '../support/factories.ts';
import { toActor } from '../../src/accounts/index.ts';
import { Shift, askFormFor } from '../../src/oncall/index.ts';
import { upcomingWindows } from '../../src/oncall/rota.service.ts';
import { formatDateTime } from '../../src/platform/views.ts';
import { makeAssignment } from '../assignments/helpers.ts';
import { plain } from './support.ts';

let t: TestApp;
let s: Awaited<ReturnType<typeof makeSchool>>;
beforeAll(async () => {
  t = await bootApp();
  s = await makeSchool(t.em());
});
afterAll(() => t.close());

async function shift(cohort: { id: number }, teacher: { id: number }, weekday: number, start: string, end: string, timeZone: string) {
  const em = t.em();
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  em.create(Shift, { cohort: cohort.id, teacher: teacher.id, weekday, startMinute: minutes(start), endMinute: minutes(end), timeZone });
  await em.flush();
}

describe('when the next teacher is on call', () => {
  it('when a shift is set in Athens, then its instants follow Athens time across the change to summer time', async () => {
    const em = t.em();
    const teacher = await makeUser(em, 'teacher', { displayName: 'Eleni' });
    const cohort = await makeCohort(em, s.programmeA, { teachers: [teacher] });
    await shift(cohort, teacher, 2, '18:00', '20:00', 'Europe/Athens');
    // Tuesday 24 March 2026, Athens on winter time (UTC+2).
    const [winter] = await upcomingWindows(t.em(), [cohort.id], new Date('2026-03-24T10:00:00Z'));
    expect(winter).toMatchObject({ teacher: 'Eleni', now: false, startsAt: new Date('2026-03-24T16:00:00Z'), endsAt: new Date('2026-03-24T18:00:00Z') });
    // Summer time starts on 29 March: the same shift is an hour earlier in UTC.
    const [summer] = await upcomingWindows(t.em(), [cohort.id], new Date('2026-03-31T10:00:00Z'));
    expect(summer!.startsAt).toEqual(new Date('2026-03-31T15:00:00Z'));
    // During the shift it is "now", until its end.
    const [during] = await upcomingWindows(t.em(), [cohort.id], new Date('2026-03-24T17:00:00Z'));
    expect(during).toMatchObject({ now: true, endsAt: new Date('2026-03-24T18:00:00Z') });
    // Just after it, next week's.
    const [after] = await upcomingWindows(t.em(), [cohort.id], new Date('2026-03-24T18:00:00Z'));
    expect(after!.startsAt).toEqual(new Date('2026-03-31T15:00:00Z'));
  });

  it('when teachers of a class keep hours in different time zones, then the soonest comes first, and a teacher who left the class no longer counts', async () => {
    const em = t.em();
    const athens = await makeUser(em, 'teacher', { displayName: 'Athens teacher' });
    const jakarta = await makeUser(em, 'teacher', { displayName: 'Jakarta teacher' });
    const gone = await makeUser(em, 'teacher', { displayName: 'Gone teacher' });
    const cohort = await makeCohort(em, s.programmeA, { teachers: [athens, jakarta] });
    await shift(cohort, athens, 1, '09:00', '11:00', 'Europe/Athens');
    await shift(cohort, jakarta, 1, '08:00', '10:00', 'Asia/Jakarta');
    await shift(cohort, gone, 7, '23:00', '24:00', 'UTC');
    // Sunday 22 March 2026 23:30 UTC = Monday 06:30 in Jakarta, Monday 01:30 in Athens.
    const windows = await upcomingWindows(t.em(), [cohort.id], new Date('2026-03-22T23:30:00Z'));
    expect(windows.map((w) => [w.teacher, w.startsAt.toISOString()])).toEqual([
      ['Jakarta teacher', '2026-03-23T01:00:00.000Z'],
      ['Athens teacher', '2026-03-23T07:00:00.000Z'],
      ['Jakarta teacher', '2026-03-30T01:00:00.000Z'],
    ]);
  });

  it('when a learner in Jakarta looks at their questions, then the next on-call time of their Athens teacher is shown in Jakarta time', async () => {
    const em = t.em();
    const teacher = await makeUser(em, 'teacher', { displayName: 'Eleni Rota', timeZone: 'Europe/Athens' });
    const learner = await makeUser(em, 'learner', { timeZone: 'Asia/Jakarta' });
    const cohort = await makeCohort(em, s.programmeA, { teachers: [teacher], learners: [learner] });
    const agent = await signIn(t.app, teacher.username);
    for (let day = 1; day <= 7; day++) expect((await post(agent, '/rota', { cohortId: cohort.id, weekday: day, start: '18:00', end: '20:00' })).status).toBe(303);
    const rota = await agent.get('/rota');
    expect(rota.text).toContain('Europe/Athens');
    expect(rota.text).toContain('Tuesday');
    const [next] = await upcomingWindows(t.em(), [cohort.id], new Date());
    const inJakarta = new Intl.DateTimeFormat('en', { hour: 'numeric', hour12: false, timeZone: 'Asia/Jakarta' }).format(next!.startsAt);
    expect(['22', '23']).toContain(inJakarta);
    const page = plain(await (await signIn(t.app, learner.username)).get('/questions'));
    const shown = formatDateTime(next!.now ? next!.endsAt : next!.startsAt, 'en', 'Asia/Jakarta');
    expect(page).toContain(next!.now ? `Eleni Rota is on call now, until ${shown}.` : `The next teacher on call is Eleni Rota, from ${shown}.`);
    const home = plain(await (await signIn(t.app, learner.username)).get('/'));
    expect(home).toContain('Eleni Rota');
  });

  it('when a lesson or assignment page asks for its ask box, then a learner gets one with the next on-call time and staff get none', async () => {
    const em = t.em();
    const teacher = await makeUser(em, 'teacher', { displayName: 'Box teacher' });
    const learner = await makeUser(em, 'learner');
    const cohort = await makeCohort(em, s.programmeA, { teachers: [teacher], learners: [learner] });
    await shift(cohort, teacher, 3, '10:00', '12:00', 'UTC');
    // Monday 23 March 2026: the next shift is Wednesday's.
    const monday = new Date('2026-03-23T08:00:00Z');
    const box = await askFormFor(t.em(), toActor(learner), 'lesson', 42, monday);
    expect(box).toMatchObject({ context: 'lesson', id: 42, showOnCall: true, onCall: { teacher: 'Box teacher', now: false, startsAt: new Date('2026-03-25T10:00:00Z') } });
    expect(await askFormFor(t.em(), toActor(teacher), 'lesson', 42, monday)).toBeNull();
    expect(await askFormFor(t.em(), undefined, 'lesson', 42, monday)).toBeNull();
    const alone = await askFormFor(t.em(), toActor(s.learnerB1), 'assignment', 7, monday);
    expect(alone).toMatchObject({ context: 'assignment', id: 7, onCall: null });
  });

  it('when a learner opens an assignment, then its ask box says who is next on call; the teacher gets no ask box', async () => {
    const em = t.em();
    const teacher = await makeUser(em, 'teacher', { displayName: 'Assignment rota teacher' });
    const learner = await makeUser(em, 'learner');
    const cohort = await makeCohort(em, s.programmeA, { teachers: [teacher], learners: [learner] });
    for (let day = 1; day <= 7; day++) await shift(cohort, teacher, day, '00:00', '01:00', 'UTC');
    const assignment = await makeAssignment(em, teacher, [cohort]);
    const page = plain(await (await signIn(t.app, learner.username)).get(`/assignments/${assignment.id}`));
    const box = /<details class="ask" id="ask">[\s\S]*?<\/details>/.exec(page)?.[0] ?? '';
    expect(box).toContain(`action="/ask/assignment/${assignment.id}?_csrf=`);
    expect(box).toMatch(/Assignment rota teacher is on call now|The next teacher on call is Assignment rota teacher/);
    expect((await (await signIn(t.app, teacher.username)).get(`/assignments/${assignment.id}`)).text).not.toContain('class="ask"');
  });

  it('when a class has no on-call hours, then the learner is told the teachers still see questions', async () => {
    const learner = await signIn(t.app, s.learnerB1.username);
    expect((await learner.get('/questions')).text).toContain('No on-call hours are set yet.');
  });
});

describe('setting the rota', () => {
  it('when the hours are wrong, then each problem is named beside its field and nothing is stored', async () => {
    const agent = await signIn(t.app, s.teacherA.username);
    const before = await t.em().count(Shift, {});
    const backwards = await post(agent, '/rota', { cohortId: s.cohortA.id, weekday: 3, start: '20:00', end: '18:00' });
    expect(backwards.status).toBe(422);
    expect(backwards.text).toContain('The end must be later than the start.');
    expect(backwards.text).toContain('value="20:00"');
    const nonsense = await post(agent, '/rota', { cohortId: s.cohortA.id, weekday: 3, start: '25:00', end: '' });
    expect(nonsense.status).toBe(422);
    expect(nonsense.text).toContain('Please write a time such as 18:30.');
    expect(nonsense.text).toContain('Please fill this in.');
    const badDay = await post(agent, '/rota', { cohortId: s.cohortA.id, weekday: 8, start: '10:00', end: '11:00' });
    expect(badDay.status).toBe(422);
    const notMine = await post(agent, '/rota', { cohortId: s.cohortB.id, weekday: 3, start: '10:00', end: '11:00' });
    expect(notMine.status).toBe(422);
    expect(notMine.text).toContain('Please choose one of the options.');
    expect(await t.em().count(Shift, {})).toBe(before);
  });

  it('when new hours overlap hours already set that day, then they are refused; back to back is fine', async () => {
    const agent = await signIn(t.app, s.teacherA.username);
    expect((await post(agent, '/rota', { cohortId: s.cohortA.id, weekday: 5, start: '10:00', end: '12:00' })).status).toBe(303);
    const overlap = await post(agent, '/rota', { cohortId: s.cohortA.id, weekday: 5, start: '11:30', end: '13:00' });
    expect(overlap.status).toBe(422);
    expect(overlap.text).toContain('These hours overlap hours you already have');
    expect((await post(agent, '/rota', { cohortId: s.cohortA.id, weekday: 5, start: '12:00', end: '24:00' })).status).toBe(303);
  });

  it("when a teacher removes a shift, then it is gone; another teacher's shift cannot be removed", async () => {
    const em = t.em();
    await shift(s.cohortB, s.teacherB, 4, '09:00', '10:00', 'UTC');
    const theirs = await em.findOneOrFail(Shift, { teacher: s.teacherB.id });
    const agent = await signIn(t.app, s.teacherA.username);
    expect((await post(agent, `/rota/${theirs.id}/remove`)).status).toBe(404);
    expect(await t.em().count(Shift, { id: theirs.id })).toBe(1);
    await post(agent, '/rota', { cohortId: s.cohortA.id, weekday: 6, start: '09:00', end: '10:00' });
    const mine = await t.em().findOneOrFail(Shift, { teacher: s.teacherA.id, weekday: 6 });
    expect((await post(agent, `/rota/${mine.id}/remove`)).status).toBe(303);
    expect(await t.em().count(Shift, { id: mine.id })).toBe(0);
  });
});
