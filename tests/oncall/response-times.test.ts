import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeSchool, makeThread, makeUser } from '../support/factories.ts';
import { toActor, type User } from '../../src/accounts/index.ts';
import { durationText } from '../../src/oncall/format.ts';
import { responseTimes } from '../../src/oncall/response-times.service.ts';
import { plain } from './support.ts';

/**
 * Fixtures with fixed times, figures worked out by hand. Programme A's period is March 2026 as a
 * coordinator in Jakarta (UTC+7) or in UTC reads it; threads near the edges fall in or out.
 *
 * Cohort A (teacher A, teacher X):
 *   t1 opened 28 Feb 17:30Z (1 Mar 00:30 Jakarta)  answered +10 min by A
 *   t2 opened 28 Feb 16:30Z (28 Feb 23:30 Jakarta) answered +1 min by A  — outside March everywhere
 *   t3 opened 10 Mar 08:00Z                         answered +30 min by A
 *   t4 opened 15 Mar 08:00Z                         answered +2 h by X
 *   t5 opened 20 Mar 08:00Z                         never answered, open
 *   t6 opened 31 Mar 16:30Z (31 Mar 23:30 Jakarta)  answered +1 h by A
 *   t7 opened 31 Mar 17:30Z (1 Apr 00:30 Jakarta)   answered +45 min by A
 * Cohort A2 (teacher Y):
 *   t8 opened 5 Mar  answered +1 day by Y;  t9 opened 6 Mar answered +5 min by Y;  t10 opened 7 Mar, resolved unanswered
 * Cohort B (programme B): one thread in March, answered by teacher B — never counted for programme A.
 */
let t: TestApp;
let s: Awaited<ReturnType<typeof makeSchool>>;
let teacherX: User;
let teacherY: User;
let jakartaCoordinator: User;
const NOW = new Date('2026-04-02T12:00:00Z');
const z = (iso: string) => new Date(iso);
const plus = (d: Date, seconds: number) => new Date(d.getTime() + seconds * 1000);

beforeAll(async () => {
  t = await bootApp();
  const em = t.em();
  s = await makeSchool(em);
  teacherX = await makeUser(em, 'teacher', { displayName: 'Teacher X' });
  teacherY = await makeUser(em, 'teacher', { displayName: 'Teacher Y' });
  jakartaCoordinator = await makeUser(em, 'coordinator', { timeZone: 'Asia/Jakarta' });
  s.programmeA.coordinators.add(jakartaCoordinator);
  s.cohortA.teachers.add(teacherX);
  await em.flush();
  const cohortA2 = await makeCohort(em, s.programmeA, { teachers: [teacherY], learners: [s.learnerA2], name: 'Cohort A2' });
  const a = { cohort: s.cohortA, learner: s.learnerA1 };
  const answered = async (opened: string, seconds: number, by: User, base = a) =>
    makeThread(em, { ...base, openedAt: z(opened), answeredAt: plus(z(opened), seconds), answeredBy: by });
  await answered('2026-02-28T17:30:00Z', 600, s.teacherA);
  await answered('2026-02-28T16:30:00Z', 60, s.teacherA);
  await answered('2026-03-10T08:00:00Z', 1800, s.teacherA);
  await answered('2026-03-15T08:00:00Z', 7200, teacherX);
  await makeThread(em, { ...a, openedAt: z('2026-03-20T08:00:00Z'), context: { kind: 'assignment', id: 7, title: 'Write about your town', url: '/assignments/7' } });
  await answered('2026-03-31T16:30:00Z', 3600, s.teacherA);
  await answered('2026-03-31T17:30:00Z', 2700, s.teacherA);
  const a2 = { cohort: cohortA2, learner: s.learnerA2 };
  await answered('2026-03-05T00:00:00Z', 86400, teacherY, a2);
  await answered('2026-03-06T00:00:00Z', 300, teacherY, a2);
  await makeThread(em, { ...a2, openedAt: z('2026-03-07T00:00:00Z'), resolved: true });
  // Asked two hours before "now": not yet overdue.
  await makeThread(em, { ...a, openedAt: plus(NOW, -7200), body: 'Recent question' });
  await answered('2026-03-12T08:00:00Z', 99, s.teacherB, { cohort: s.cohortB, learner: s.learnerB1 });
});
afterAll(() => t.close());

const march = { from: '2026-03-01', to: '2026-03-31' };

describe('response times', () => {
  it('when a coordinator in Jakarta reads March, then each class, each teacher and the total match the hand-computed figures', async () => {
    const r = await responseTimes(t.em(), toActor(jakartaCoordinator), { ...march, timeZone: 'Asia/Jakarta', programmeId: s.programmeA.id }, NOW);
    const cohortA = r.cohorts.find((c) => c.id === s.cohortA.id)!;
    // t1 t3 t4 t5 t6: waits 600, 1800, 7200, 3600 → sorted 600 1800 3600 7200.
    expect(cohortA).toMatchObject({ opened: 5, answered: 4, median: 2700, p90: 6120 });
    // t8 t9 t10: waits 86400, 300.
    expect(r.cohorts.find((c) => c.name === 'Cohort A2')).toMatchObject({ opened: 3, answered: 2, median: 43350, p90: 77790 });
    // All six waits: 300 600 1800 3600 7200 86400.
    expect(r.total).toEqual({ opened: 8, answered: 6, median: 2700, p90: 46800 });
    expect(r.teachers.map((x) => [x.name, x.answered, x.median, x.p90])).toEqual(
      [
        [s.teacherA.displayName, 3, 1800, 3240],
        ['Teacher X', 1, 7200, 7200],
        ['Teacher Y', 2, 43350, 77790],
      ].sort((p, q) => String(p[0]).localeCompare(String(q[0]))),
    );
    expect(r.cohorts.some((c) => c.id === s.cohortB.id)).toBe(false);
  });

  it('when a coordinator in UTC reads the same March, then the threads at the edges move across and the figures change with them', async () => {
    const r = await responseTimes(t.em(), toActor(jakartaCoordinator), { ...march, timeZone: 'UTC', programmeId: s.programmeA.id }, NOW);
    // t1 leaves (it is 28 Feb in UTC), t7 comes in: waits 1800, 7200, 3600, 2700 → 1800 2700 3600 7200.
    expect(r.cohorts.find((c) => c.id === s.cohortA.id)).toMatchObject({ opened: 5, answered: 4, median: 3150, p90: 6120 });
  });

  it('when questions wait more than a day without an answer, then they are listed with their age; resolved and recent ones are not', async () => {
    const r = await responseTimes(t.em(), toActor(jakartaCoordinator), { ...march, timeZone: 'Asia/Jakarta' }, NOW);
    // 20 March 08:00 to 2 April 12:00: 13 days and 4 hours.
    expect(r.unanswered.map((u) => [u.contextTitle, u.contextKind, u.hours])).toEqual([['Write about your town', 'assignment', 13 * 24 + 4]]);
  });

  it('when nothing in the period was answered, then the times read "none" rather than zero', async () => {
    const r = await responseTimes(t.em(), toActor(jakartaCoordinator), { from: '2025-01-01', to: '2025-01-31', timeZone: 'Asia/Jakarta' }, NOW);
    expect(r.total).toEqual({ opened: 0, answered: 0, median: null, p90: null });
  });

  it('when the coordinator opens the page, then the figures are shown as durations, and other programmes stay out', async () => {
    const agent = await signIn(t.app, jakartaCoordinator.username);
    const page = plain(await agent.get(`/response-times?from=2026-03-01&to=2026-03-31&programme=${s.programmeA.id}`));
    expect(page).toContain(`<td>${durationText(2700, 'en')}</td><td>${durationText(6120, 'en')}</td>`);
    expect(durationText(6120, 'en')).toBe('1 hr, 42 min');
    expect(page).toContain('Write about your town');
    expect(page).not.toContain(s.cohortB.name);
    const other = plain(await (await signIn(t.app, s.coordinatorB.username)).get('/response-times?from=2026-03-01&to=2026-03-31'));
    expect(other).toContain(s.cohortB.name);
    expect(other).not.toContain(s.cohortA.name);
    expect(other).not.toContain('Write about your town');
  });

  it('when the dates are not dates, then the request is refused plainly', async () => {
    const agent = await signIn(t.app, jakartaCoordinator.username);
    expect((await agent.get('/response-times?from=yesterday')).status).toBe(400);
  });
});
