/** The pre-counted figures: refreshed incrementally, and exact however the range falls on months. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllowanceIssue, AllowanceLedgerEntry, DataUsage } from '../../src/allowances/index.ts';
import { Grade, GradeChange, Submission, SubmissionVersion } from '../../src/assignments/index.ts';
import { Course, CourseCompletion, Lesson, LessonProgress, QuizAttempt, StudyTime } from '../../src/courses/index.ts';
import { refreshRollups } from '../../src/reports/index.ts';
import { wholeMonths } from '../../src/reports/queries/hours.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { signIn, type Agent } from '../support/agent.ts';
import { RANGE, TARGET_ENV, csvRows, makeReportWorld, tableCells } from './world.ts';

let t: TestApp;
let w: Awaited<ReturnType<typeof makeReportWorld>>;
let coordinator: Agent;

beforeAll(async () => {
  t = await bootApp(TARGET_ENV);
  w = await makeReportWorld(t.em());
  coordinator = await signIn(t.app, w.coordinatorA.username);
});
afterAll(async () => t.close());

const hoursTotal = async (query: string) => tableCells((await coordinator.get(`/reports/hours?${query}`)).text, 'hours').at(-1);

describe('rollups', () => {
  it('when a range starts and ends inside months, then the days at its edges are counted from study time itself', async () => {
    // 15 Apr – 10 Sep (l4 joined later): l1 0.5 h soft (5 Sep in, 28 Sep out), l2 2 h, l3 10 h + 2 h soft (10 Sep is in).
    // Expected by 10 Sep: 149 of the cycle's 183 days, 8.1 h and 1.6 h: only l3 is on track.
    expect(await hoursTotal('from=2026-04-15&to=2026-09-10')).toEqual(['Total', '3', '4 h', '0.8 h', '2 h', '0.5 h', '1', '33%']);
    // Inside one month only: 1–29 Sep: l1 1 h + 0.5 h, l3 10 h; l2 withdrew on 10 Sep but was enrolled, studied in August.
    expect(await hoursTotal('from=2026-09-01&to=2026-09-29')).toEqual(['Total', '4', '2.8 h', '0.1 h', '0.5 h', '0 h', '0', '0%']);
  });

  it('when learners progress after a refresh, then the next refresh recounts only them and the reports follow', async () => {
    const em = t.em();
    const [L1, L2] = await em.find(Lesson, { course: w.L }, { orderBy: { position: 'asc' } });
    em.create(StudyTime, { learner: w.l4, lesson: L1!, course: w.L, day: '2026-09-26', seconds: 7200 });
    em.create(LessonProgress, { learner: w.l4, lesson: L1!, course: w.L, startedAt: new Date('2026-09-26T10:00:00Z'), completedAt: new Date('2026-09-26T10:00:00Z'), lastVisitedAt: new Date('2026-09-26T10:00:00Z') });
    em.create(LessonProgress, { learner: w.l4, lesson: L2!, course: w.L, startedAt: new Date('2026-09-26T11:00:00Z'), completedAt: new Date('2026-09-26T11:00:00Z'), lastVisitedAt: new Date('2026-09-26T11:00:00Z') });
    await em.flush();

    const outcome = await refreshRollups(t.em(), { wait: true });
    expect(outcome).toEqual({ full: false, learners: 2, skipped: false });
    // l4 now has 2 h of language: the average is (1 + 2 + 10 + 2) / 4.
    expect((await hoursTotal(RANGE))!.slice(0, 3)).toEqual(['Total', '4', '3.8 h']);
    // …and has completed unit 1 of Greek A1, with l1.
    const units = tableCells((await coordinator.get(`/reports/completion?${RANGE}`)).text, 'units');
    expect(units[1]).toEqual(['Greek A1', 'Unit 1', '2', '4', '2', '50%']);
    expect((await coordinator.get(`/reports/completion?${RANGE}`)).text).toContain('Lesson progress and study hours are counted up to');
    expect((await coordinator.get(`/reports/donor?${RANGE}`)).text).toContain('Lesson progress and study hours are counted up to');
    expect(await refreshRollups(t.em(), { wait: true })).toMatchObject({ full: false, skipped: false });
  });

  it('when a range ends inside a month of study, then activity counts only the days up to its end', async () => {
    // 22 Aug – 20 Sep: l1 studied Finding work on 5 Sep (Greek A1 on 28 Sep is later), l3 on 10 Sep; l4's 26 Sep is later.
    const total = tableCells((await coordinator.get('/reports/enrolment?from=2026-04-01&to=2026-09-20')).text, 'enrolment').at(-1);
    expect(total).toEqual(['Total', '4', '3', '1', '0', '2', '50%']);
  });

  it('when a course is completed after a refresh, then the next refresh counts it, once', async () => {
    const findingWork = async () => tableCells((await coordinator.get(`/reports/completion?${RANGE}`)).text, 'courses').find((r) => r[0] === 'Finding work');
    expect(await findingWork()).toEqual(['Finding work', '3', '1', '1', '33%']);
    const em = t.em();
    em.create(CourseCompletion, { learner: w.l2, course: w.S, completedAt: new Date('2026-09-01T12:00:00Z') });
    await em.flush();
    // Until the next refresh the page shows the figures as of the last one (and says when that was).
    expect(await findingWork()).toEqual(['Finding work', '3', '1', '1', '33%']);
    expect(await refreshRollups(t.em(), { wait: true })).toEqual({ full: false, learners: 1, skipped: false });
    expect(await findingWork()).toEqual(['Finding work', '3', '1', '2', '67%']);
    expect(await refreshRollups(t.em(), { wait: true })).toMatchObject({ full: false, skipped: false });
    expect(await findingWork()).toEqual(['Finding work', '3', '1', '2', '67%']);
    // A range that ends before the completion counts it as not yet done.
    const before = tableCells((await coordinator.get('/reports/completion?from=2026-04-01&to=2026-08-31')).text, 'courses').find((r) => r[0] === 'Finding work');
    expect(before?.[3]).toBe('0');
  });

  it('when a quiz is taken again after a refresh, then the next refresh counts the attempt, once, and a range that cuts between attempts counts those inside it', async () => {
    const quiz = async (query: string) => tableCells((await coordinator.get(`/reports/quizzes?${query}`)).text, 'quizzes')[0];
    expect(await quiz(RANGE)).toEqual(['Greek A1', 'Lesson 3', '2', '3', '70', '1', '50%']);
    const em = t.em();
    const [, , Q] = await em.find(Lesson, { course: w.L }, { orderBy: { position: 'asc' } });
    em.create(QuizAttempt, { learner: w.l2, lesson: Q!, idempotencyKey: 'again', score: 80, passed: true, results: [], submittedAt: new Date('2026-09-01T12:00:00Z') });
    await em.flush();
    expect(await quiz(RANGE)).toEqual(['Greek A1', 'Lesson 3', '2', '3', '70', '1', '50%']);
    await refreshRollups(t.em(), { wait: true });
    // l2: 40, then 80: best 80, passed. Average of the bests (100 + 80) / 2.
    expect(await quiz(RANGE)).toEqual(['Greek A1', 'Lesson 3', '2', '4', '90', '2', '100%']);
    await refreshRollups(t.em(), { wait: true });
    expect(await quiz(RANGE)).toEqual(['Greek A1', 'Lesson 3', '2', '4', '90', '2', '100%']);
    // Up to 25 August: l2's second attempt is not yet made (l1 100, l2 40).
    expect(await quiz('from=2026-04-01&to=2026-08-25')).toEqual(['Greek A1', 'Lesson 3', '2', '3', '70', '1', '50%']);
    // From 22 August: only l2's second attempt (l1's were in June).
    expect(await quiz('from=2026-08-22&to=2026-09-30')).toEqual(['Greek A1', 'Lesson 3', '1', '1', '80', '1', '100%']);
  });

  it('when data use is recorded after a refresh, then the next refresh counts it, once, whatever day it is for', async () => {
    const used = async (query: string) => tableCells((await coordinator.get(`/reports/allowances?${query}`)).text, 'allowance-groups').at(-1)!.at(-1);
    expect(await used(RANGE)).toBe('400');
    const em = t.em();
    // A day long before the last refresh (as a restore or a correction would write it).
    em.create(DataUsage, { learner: w.l1, day: '2026-07-20', bytes: 50_000_000 });
    await em.flush();
    expect(await used(RANGE)).toBe('400');
    await refreshRollups(t.em(), { wait: true });
    expect(await used(RANGE)).toBe('450');
    await refreshRollups(t.em(), { wait: true });
    expect(await used(RANGE)).toBe('450');
    // From 6 July: l1's 5 July is left out, l3's 10 July and l1's 20 July are in, read from the days themselves.
    expect(await used('from=2026-07-06&to=2026-09-30')).toBe('150');

    // Today, as metering writes it: the month it falls in is counted again by every refresh.
    const now = new Date();
    const today = now.toISOString().slice(0, 10);
    const month = `from=${today.slice(0, 8)}01&to=${new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).toISOString().slice(0, 10)}`;
    expect(await used(month)).toBe('0');
    em.create(DataUsage, { learner: w.l1, day: today, bytes: 20_000_000 });
    await em.flush();
    await refreshRollups(t.em(), { wait: true });
    expect(await used(month)).toBe('20');
    await refreshRollups(t.em(), { wait: true });
    expect(await used(month)).toBe('20');
  });

  it('when allowances are issued or cancelled after a refresh, then the next refresh counts them, and a range that cuts a month counts the periods inside it', async () => {
    const admin = await signIn(t.app, w.admin.username);
    const months = async (query: string, who = coordinator) => tableCells((await who.get(`/reports/allowances?${query}`)).text, 'data');
    // l1's 50 MB of 20 July are from the test before.
    expect(await months(RANGE)).toEqual([['Jul 2026', '2', '1,000', '2,000', '450']]);
    const em = t.em();
    const july = await em.findOneOrFail(AllowanceIssue, { learner: w.l1 });
    // Two weekly-style periods in August for l2, written as the ledger writes every change: the allowance and its entry.
    const give = (periodStart: string, amount: number) => {
      const issue = em.create(AllowanceIssue, { scheme: july.scheme, batch: july.batch, learner: w.l2, periodStart, amount, unit: 'megabytes', currency: null, phone: '+306900000000', status: 'pending' });
      em.create(AllowanceLedgerEntry, { issue, batch: july.batch, scheme: july.scheme, learner: w.l2, periodStart, kind: 'issued', amount, unit: 'megabytes', currency: null, statusAfter: 'pending', whyKey: 'allowances:why.issued', whyVars: {}, actor: w.coordinatorA });
      return issue;
    };
    give('2026-08-01', 200);
    const second = give('2026-08-15', 300);
    await em.flush();
    expect(await months(RANGE)).toEqual([['Jul 2026', '2', '1,000', '2,000', '450']]);
    await refreshRollups(t.em(), { wait: true });
    // One learner in August however many periods; the budget is per batch, and August has none.
    expect(await months(RANGE)).toEqual([['Jul 2026', '2', '1,000', '2,000', '450'], ['Aug 2026', '1', '500', '0', '0']]);
    // From 10 August only the period of the 15th is inside the range, read from the allowances themselves.
    expect(await months('from=2026-08-10&to=2026-09-30')).toEqual([['Aug 2026', '1', '300', '0', '0']]);
    // An admin's scope holds both programmes: the same allowances (programme B gives none), and b1's 900 MB used.
    expect(await months(RANGE, admin)).toEqual([['Jul 2026', '2', '1,000', '2,000', '1,350'], ['Aug 2026', '1', '500', '0', '0']]);

    second.status = 'cancelled';
    em.create(AllowanceLedgerEntry, { issue: second, batch: july.batch, scheme: july.scheme, learner: w.l2, periodStart: '2026-08-15', kind: 'cancelled', amount: -300, unit: 'megabytes', currency: null, statusAfter: 'cancelled', whyKey: 'allowances:why.cancelled', whyVars: {}, actor: w.coordinatorA });
    await em.flush();
    await refreshRollups(t.em(), { wait: true });
    expect(await months(RANGE)).toEqual([['Jul 2026', '2', '1,000', '2,000', '450'], ['Aug 2026', '1', '200', '0', '0']]);
    expect(await months('from=2026-08-10&to=2026-09-30')).toEqual([['Nothing to show for these filters.']]);
  });

  it('when work is handed in and then graded after a refresh, then each next refresh counts it', async () => {
    const x = async () => tableCells((await coordinator.get(`/reports/assignments?${RANGE}`)).text, 'assignments').find((r) => r[0] === 'Assignment X')!.slice(2);
    expect(await x()).toEqual(['2', '1', '50%', '1', '48 h']);
    const em = t.em();
    // l2's draft of X is handed in (as the hand-in does it, the submission changes with its new version)…
    const draft = await em.findOneOrFail(Submission, { learner: w.l2 }, { populate: ['assignment'] });
    draft.submittedVersion = 1;
    draft.status = 'submitted';
    draft.lastSubmittedAt = new Date('2026-07-01T10:00:00Z');
    em.create(SubmissionVersion, { submission: draft, number: 1, text: 'Late but done.', submittedAt: new Date('2026-07-01T10:00:00Z'), dueAt: draft.assignment.getEntity().dueAt });
    await em.flush();
    expect(await x()).toEqual(['2', '1', '50%', '1', '48 h']);
    await refreshRollups(t.em(), { wait: true });
    expect(await x()).toEqual(['2', '2', '100%', '1', '48 h']);
    // …then graded six hours later (a grade changes only with its history row). The hand-in is made
    // to look long past, so only the new history row can tell the refresh about the grade.
    await em.getConnection().execute('UPDATE submissions SET updated_at = ? WHERE id = ?', ['2026-07-01T10:00:00Z', draft.id]);
    const state = { versionNumber: 1, score: 7, rubricLevels: null, feedback: '', released: true };
    em.create(Grade, { submission: draft, versionNumber: 1, score: 7, gradedBy: w.teacherA, gradedAt: new Date('2026-07-01T16:00:00Z'), releasedAt: new Date('2026-07-01T16:00:00Z') });
    em.create(GradeChange, { submission: draft, action: 'save', changedBy: w.teacherA, changedAt: new Date('2026-07-01T16:00:00Z'), oldValue: null, newValue: state });
    await em.flush();
    await refreshRollups(t.em(), { wait: true });
    // Median of 48 h and 6 h.
    expect(await x()).toEqual(['2', '2', '100%', '2', '27 h']);
  });

  it('when study has gaps of months, then any range gives each learner the hours they studied in it, as study time itself sums them', async () => {
    const em = t.em();
    const [L1] = await em.find(Lesson, { course: w.L }, { orderBy: { position: 'asc' } });
    const [S1] = await em.find(Lesson, { course: w.S }, { orderBy: { position: 'asc' } });
    // Months apart, so the running totals have months without study between months with it.
    em.create(StudyTime, { learner: w.l2, lesson: L1!, course: w.L, day: '2026-02-14', seconds: 5400 });
    em.create(StudyTime, { learner: w.l2, lesson: S1!, course: w.S, day: '2026-05-03', seconds: 1800 });
    em.create(StudyTime, { learner: w.l3, lesson: L1!, course: w.L, day: '2026-11-02', seconds: 3600 });
    await em.flush();
    expect(await refreshRollups(t.em(), { wait: true })).toMatchObject({ full: false, skipped: false });

    const ranges = [
      ['2025-01-01', '2026-11-23'],
      ['2026-01-01', '2026-12-31'],
      ['2026-03-01', '2026-04-30'],
      ['2026-03-01', '2026-06-30'],
      ['2026-02-15', '2026-08-19'],
      ['2026-06-01', '2026-06-30'],
      ['2026-10-01', '2026-11-23'],
      ['2026-11-01', '2026-11-30'],
    ];
    for (const [from, to] of ranges) {
      const studied = (await em.getConnection().execute(
        `SELECT u.username, coalesce(sum(s.seconds) FILTER (WHERE c.subject = 'language'), 0) AS lang, coalesce(sum(s.seconds) FILTER (WHERE c.subject = 'soft-skills'), 0) AS soft
           FROM users u LEFT JOIN study_time s ON s.learner_id = u.id AND s.day BETWEEN ? AND ? LEFT JOIN courses c ON c.id = s.course_id GROUP BY u.username`,
        [from, to],
      )) as { username: string; lang: string; soft: string }[];
      const expected = new Map(studied.map((r) => [r.username, [Number(r.lang) / 3600, Number(r.soft) / 3600]]));
      const rows = csvRows((await coordinator.get(`/reports/hours/learners.csv?from=${from}&to=${to}`)).text).slice(1);
      expect(rows.length, `${from} – ${to}`).toBeGreaterThan(0);
      for (const [username, , lang, soft] of rows) expect([Number(lang), Number(soft)], `${username}, ${from} – ${to}`).toEqual(expected.get(username!));
    }
  });

  it("when a course's subject changes, then the next refresh counts everything again and its hours move to the other target", async () => {
    const em = t.em();
    const S = await em.findOneOrFail(Course, w.S.id);
    S.subject = 'language';
    await em.flush();
    expect(await refreshRollups(t.em(), { wait: true })).toMatchObject({ full: true, skipped: false });
    // l3's 2 h of soft skills (1 Jul) now count as language, with her 10 h.
    const l3 = csvRows((await coordinator.get(`/reports/hours/learners.csv?${RANGE}`)).text).find((r) => r[0] === w.l3.username);
    expect(l3!.slice(2)).toEqual(['12', '0', 'No']);
    S.subject = 'soft-skills';
    await em.flush();
    expect(await refreshRollups(t.em(), { wait: true })).toMatchObject({ full: true, skipped: false });
  });

  it('when the lessons of a course change, then the next refresh counts everything again against the new lessons', async () => {
    const em = t.em();
    const [, L2] = await em.find(Lesson, { course: w.L }, { orderBy: { position: 'asc' } });
    L2!.retired = true;
    await em.flush();
    expect(await refreshRollups(t.em(), { wait: true })).toMatchObject({ full: true, skipped: false });
    // Unit 1 of Greek A1 is now the one lesson L1, which l1, l2, l3 and l4 all completed by the end of the range.
    const units = tableCells((await coordinator.get(`/reports/completion?${RANGE}`)).text, 'units');
    expect(units[1]).toEqual(['Greek A1', 'Unit 1', '1', '4', '4', '100%']);
  });

  it('when the range is cut into whole months, then the months read from the rollup are the ones inside it', () => {
    expect(wholeMonths({ from: '2026-06-01', to: '2026-11-23' }, '2026-11-23')).toEqual({ from: '2026-06-01', to: '2026-12-01' });
    expect(wholeMonths({ from: '2026-06-02', to: '2026-09-30' }, '2026-11-23')).toEqual({ from: '2026-07-01', to: '2026-10-01' });
    expect(wholeMonths({ from: '2026-06-01', to: '2026-09-29' }, '2026-11-23')).toEqual({ from: '2026-06-01', to: '2026-09-01' });
    expect(wholeMonths({ from: '2026-09-02', to: '2026-09-29' }, '2026-11-23')).toBeNull();
  });
});
