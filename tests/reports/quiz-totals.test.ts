/**
 * The quiz report read from running totals per learner and monthly totals per quiz, with the pairs
 * near a range's edges corrected: for many ranges, scopes and breakdowns, its figures equal those
 * counted straight from the attempts, before and after an incremental refresh.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/accounts/index.ts';
import { Lesson, QuizAttempt } from '../../src/courses/index.ts';
import { Enrolment, type Cohort } from '../../src/programmes/index.ts';
import { refreshRollups } from '../../src/reports/index.ts';
import { nearestMonth, quizFigures } from '../../src/reports/queries/quizzes.ts';
import { settleRange, settleScope } from '../../src/reports/queries/scope.ts';
import type { ReportViewer } from '../../src/reports/reports.policy.ts';
import type { Breakdown, ReportFilters } from '../../src/reports/reports.schemas.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeCourse, makeProgramme, makeUser, offerCourse } from '../support/factories.ts';

const ZONE = 'Europe/Athens';

let t: TestApp;
let viewer: ReportViewer;
let course: { id: number };
let small: Cohort;
let quizzes: Lesson[];
const learners: { user: User; cohort: 'a1' | 'a2' | 'b' }[] = [];
const attempts: { learner: number; lesson: number; score: number; at: Date }[] = [];

/** A fixed sequence of pseudo-random numbers in [0, 1): the same school on every run. */
function sequence(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function attempt(em: EntityManager, who: User, quiz: Lesson, score: number, at: Date) {
  attempts.push({ learner: who.id, lesson: quiz.id, score, at });
  return em.create(QuizAttempt, { learner: who, lesson: quiz, idempotencyKey: `${who.id}-${quiz.id}-${attempts.length}`, score, passed: score >= 60, results: [], submittedAt: at });
}

beforeAll(async () => {
  t = await bootApp();
  const em = t.em();
  const coordinator = await makeUser(em, 'coordinator', { timeZone: ZONE });
  viewer = { coordinatorId: coordinator.id };
  const a = await makeProgramme(em, [coordinator]);
  const b = await makeProgramme(em, []);
  const cohorts = { a1: await makeCohort(em, a), a2: await makeCohort(em, a), b: await makeCohort(em, b) };
  small = cohorts.a2;
  const c = await makeCourse(em, { units: [{ lessons: ['quiz', 'text'] }, { lessons: ['quiz', 'quiz'] }] });
  course = c;
  for (const cohort of Object.values(cohorts)) await offerCourse(em, cohort, c);
  quizzes = await em.find(Lesson, { course: c, type: 'quiz' }, { orderBy: { position: 'asc' } });
  const sexes = ['female', 'male', null] as const;
  // Nine learners in A1, four in A2 (the small scope), five in programme B (out of scope: they take the same quizzes).
  const plan = [...Array(9).fill('a1'), ...Array(4).fill('a2'), ...Array(5).fill('b')] as ('a1' | 'a2' | 'b')[];
  for (const [i, cohort] of plan.entries()) {
    const user = await makeUser(em, 'learner', { sex: sexes[i % 3] ?? undefined });
    em.create(Enrolment, { cohort: cohorts[cohort], learner: user, status: 'active', enrolledAt: new Date('2025-12-01T00:00:00Z'), withdrawnAt: null });
    learners.push({ user, cohort });
  }
  await em.flush();

  // Each learner takes most quizzes, one to four times, days or weeks apart, from January to mid-November 2026.
  const random = sequence(7);
  const start = Date.parse('2026-01-05T00:00:00Z');
  const span = Date.parse('2026-11-10T00:00:00Z') - start;
  for (const { user } of learners) {
    for (const quiz of quizzes) {
      if (random() < 0.25) continue;
      let at = start + random() * span;
      for (let n = 1 + Math.floor(random() * 4); n > 0 && at < Date.parse('2026-11-20T00:00:00Z'); n--) {
        attempt(em, user, quiz, Math.floor(random() * 101), new Date(Math.floor(at / 1000) * 1000));
        at += random() * 40 * 86_400_000;
      }
    }
  }
  // On the edges: the first second of 1 June in Athens (31 May, 21:00 UTC), the last of 31 May, and one
  // learner's attempts either side of it; a pair whose attempts span four months.
  const [q1, q2, q3] = quizzes as [Lesson, Lesson, Lesson];
  const [x, y, z] = learners.map((l) => l.user) as [User, User, User];
  attempt(em, x, q1, 90, new Date('2026-05-31T21:00:00Z'));
  attempt(em, y, q2, 30, new Date('2026-05-31T20:59:59Z'));
  attempt(em, z, q3, 75, new Date('2026-05-31T20:59:59Z'));
  attempt(em, z, q3, 20, new Date('2026-05-31T21:00:00Z'));
  attempt(em, learners[12]!.user, q1, 65, new Date('2026-03-31T23:30:00Z'));
  attempt(em, learners[12]!.user, q1, 15, new Date('2026-07-02T01:00:00Z'));
  await em.flush();
  await refreshRollups(t.em(), { wait: true });
});
afterAll(async () => t.close());

/** The figures counted straight from the attempts, for the learners of `scope`. */
function expected(start: Date, end: Date, scope: readonly ('a1' | 'a2' | 'b')[], by: Breakdown) {
  const inScope = new Map(learners.filter((l) => scope.includes(l.cohort)).map((l) => [l.user.id, l.user]));
  const pairs = new Map<string, { learner: number; lesson: number; attempts: number; best: number; passed: boolean }>();
  for (const a of attempts) {
    if (!inScope.has(a.learner) || a.at < start || a.at >= end) continue;
    const key = `${a.learner}:${a.lesson}`;
    const p = pairs.get(key) ?? { learner: a.learner, lesson: a.lesson, attempts: 0, best: 0, passed: false };
    pairs.set(key, { ...p, attempts: p.attempts + 1, best: Math.max(p.best, a.score), passed: p.passed || a.score >= 60 });
  }
  const sum = (list: { attempts: number; best: number; passed: boolean }[]) => ({
    taken: list.length,
    attempts: list.reduce((s, p) => s + p.attempts, 0),
    average: list.reduce((s, p) => s + p.best, 0) / list.length,
    passed: list.filter((p) => p.passed).length,
  });
  const all = [...pairs.values()];
  const quizRows = quizzes
    .map((q) => ({ lessonId: q.id, ...sum(all.filter((p) => p.lesson === q.id)) }))
    .filter((q) => q.taken > 0)
    .map((q) => ({ lessonId: q.lessonId, learners: q.taken, attempts: q.attempts, averageBest: q.average, passed: q.passed }));
  const groupOf = (id: number) => (by === 'none' ? 'all' : (inScope.get(id)!.sex ?? 'not_stated'));
  const groups = new Map<string | null, typeof all>([[null, all]]);
  for (const p of all) groups.set(groupOf(p.learner), [...(groups.get(groupOf(p.learner)) ?? []), p]);
  const groupRows = [...groups.entries()].map(([group, list]) => {
    const s = sum(list);
    return { group, learners: new Set(list.map((p) => p.learner)).size, taken: s.taken, averageBest: list.length ? s.average : null, passed: s.passed };
  });
  return { quizRows, groupRows };
}

const RANGES: [string, string][] = [
  ['2026-01-01', '2026-11-23'], // everything, up to today
  ['2026-04-01', '2026-09-30'], // whole months
  ['2026-06-01', '2026-06-30'], // one month: in Athens it starts three hours before June does in UTC
  ['2026-03-15', '2026-07-10'], // both edges mid-month
  ['2026-05-31', '2026-06-01'], // two days about a month's turn
  ['2026-07-17', '2026-07-17'], // one day
  ['2026-10-20', '2026-11-05'], // across the change from summer time
  ['2026-02-10', '2026-02-12'], // likely nothing
  ['2025-01-01', '2025-12-31'], // before any attempt
];

async function figuresFor(from: string, to: string, by: Breakdown, narrow: Partial<ReportFilters> = {}) {
  const em = t.em();
  const f: ReportFilters = { from, to, by, timeZone: ZONE, ...narrow };
  const [range, scoped] = await Promise.all([settleRange(em, f), settleScope(em, viewer, f)]);
  return { range, figures: await quizFigures(em, viewer, scoped, range) };
}

async function expectExact(scope: readonly ('a1' | 'a2' | 'b')[], narrow: Partial<ReportFilters> = {}) {
  for (const [from, to] of RANGES) {
    for (const by of ['none', 'sex'] as const) {
      const { range, figures } = await figuresFor(from, to, by, narrow);
      const want = expected(range.start, range.end, scope, by);
      const label = `${from}..${to} by ${by}`;
      expect(figures.quizzes.map(({ lessonId, learners, attempts, averageBest, passed }) => ({ lessonId, learners, attempts, averageBest: round(averageBest), passed })), label).toEqual(
        want.quizRows.map((q) => ({ ...q, averageBest: round(q.averageBest) })),
      );
      const key = (g: { group: string | null }) => g.group ?? '~';
      const sorted = <T extends { group: string | null; averageBest: number | null }>(rows: T[]) => [...rows].sort((p, q) => key(p).localeCompare(key(q))).map((g) => ({ ...g, averageBest: g.averageBest === null ? null : round(g.averageBest) }));
      const groups = by === 'none' ? want.groupRows.flatMap((g) => (g.group === null ? [g, { ...g, group: 'all' }] : [])) : want.groupRows;
      expect(sorted(figures.groups), label).toEqual(sorted(groups));
    }
  }
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

describe('quiz figures from the rollups', () => {
  it('when every learner–quiz pair near an edge is corrected, then each range equals the attempts counted straight, per quiz and per group', async () => {
    expect(attempts.length).toBeGreaterThan(80);
    await expectExact(['a1', 'a2']);
  });

  it('when the scope is one small cohort, then the learners in it are counted directly, with the same figures', async () => {
    await expectExact(['a2'], { cohortId: small.id });
  });

  it('when a course is chosen, then its quizzes are counted from the pairs, with the same figures', async () => {
    await expectExact(['a1', 'a2'], { courseId: course.id });
  });

  it('when attempts are added after a refresh, then the incremental refresh keeps the totals and months equal to a count from scratch', async () => {
    const em = t.em();
    const [q1, q2] = quizzes as [Lesson, Lesson];
    const [x, , , w] = learners.map((l) => l.user) as [User, User, User, User];
    // A new pair, a pair stretched from months ago into November, and a learner out of scope.
    attempt(em, w, q2, 100, new Date('2026-11-18T09:00:00Z'));
    attempt(em, x, q1, 55, new Date('2026-11-19T10:00:00Z'));
    attempt(em, learners[15]!.user, q1, 80, new Date('2026-11-19T11:00:00Z'));
    await em.flush();
    expect(await refreshRollups(t.em(), { wait: true })).toMatchObject({ full: false, skipped: false });
    await expectExact(['a1', 'a2']);
    const recount = async (table: string, from: string) =>
      em.execute(`SELECT * FROM (${from}) r EXCEPT SELECT * FROM ${table}`).then(async (missing) => [missing, await em.execute(`SELECT * FROM ${table} EXCEPT SELECT * FROM (${from}) r`)]);
    const month = `(extract(year FROM last_at AT TIME ZONE 'UTC') * 12 + extract(month FROM last_at AT TIME ZONE 'UTC') - 1)::int`;
    expect(
      await recount('report_quiz_months', `SELECT lesson_id, ${month} AS month, count(*)::int, sum(attempts)::int, sum(best)::bigint, (count(*) FILTER (WHERE passed))::int FROM report_quiz_best GROUP BY 1, 2`),
    ).toEqual([[], []]);
  });

  it('when an instant lies nearer the start of the next month than of its own, then the next month is the nearest', () => {
    expect(nearestMonth(new Date('2026-05-31T21:00:00Z'))).toBe(2026 * 12 + 5);
    expect(nearestMonth(new Date('2026-06-10T00:00:00Z'))).toBe(2026 * 12 + 5);
    expect(nearestMonth(new Date('2026-06-20T00:00:00Z'))).toBe(2026 * 12 + 6);
    expect(nearestMonth(new Date('2026-12-31T22:00:00Z'))).toBe(2027 * 12);
  });
});
