import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User, toActor } from '../../src/accounts/index.ts';
import type { EligibilityFacts, FactLookup } from '../../src/allowances/index.ts';
import { preview } from '../../src/allowances/issuing.service.ts';
import { Lesson, LessonProgress, lessonsCompletedBy, studySecondsBy } from '../../src/courses/index.ts';
import { Enrolment } from '../../src/programmes/index.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCohort, makeCourse, makeProgramme, makeUser } from '../support/factories.ts';
import { type SchemeTerms, makeScheme } from './helpers.ts';

let t: TestApp;
let i18n: (key: string, vars?: Record<string, unknown>) => string;
beforeAll(async () => {
  t = await bootApp();
  const { createI18n } = await import('../../src/platform/i18n.ts');
  const instance = await createI18n('en');
  i18n = (key, vars) => instance.t(key, { ...vars, lng: 'en' }).replace(/[\u2066-\u2069]/g, '');
});
afterAll(() => t.close());

let phone = 30_000;
/** Learners in one cohort of a new programme, each with a mobile number and the given time zone. */
async function school(names: string[], timeZone = 'UTC') {
  const em = t.em();
  const coordinator = await makeUser(em, 'coordinator', { timeZone: 'Europe/Athens' });
  const learners: Record<string, User> = {};
  for (const name of names) learners[name] = await makeUser(em, 'learner', { displayName: name, phone: `+3069140${phone++}`, timeZone });
  const programme = await makeProgramme(em, [coordinator]);
  const cohort = await makeCohort(em, programme, { learners: Object.values(learners) });
  return { coordinator, learners, programme, cohort };
}

/** Fixed counts per learner, remembering the windows they were asked for. */
function counting(counts: Map<number, number>) {
  const calls: { ids: number[]; from: Date; to: Date }[] = [];
  const lookup: FactLookup = async (_em, ids, from, to) => {
    calls.push({ ids, from, to });
    return new Map(ids.filter((id) => counts.has(id)).map((id) => [id, counts.get(id)!]));
  };
  return { lookup, calls };
}

const none: FactLookup = async () => new Map();

async function verdicts(s: Awaited<ReturnType<typeof school>>, terms: SchemeTerms, facts: Partial<EligibilityFacts>, period = '2026-03-01') {
  const scheme = await makeScheme(t, s.coordinator, s.programme.id, { startsOn: '2026-01-01', ...terms });
  const p = await preview(t.em(), toActor(s.coordinator), { lessonsCompletedBy: none, studySecondsBy: none, submissionsBy: none, ...facts }, scheme.id, period);
  return Object.fromEntries(p.rows.map((r) => [r.displayName, { state: r.state, why: i18n(r.reason.key, r.reason.vars) }]));
}

describe('eligibility rules, each at its boundary', () => {
  it('when the rule is "at least 4 lessons", then 3 lessons is not enough and 4 is', async () => {
    const s = await school(['Three', 'Four', 'Five']);
    const { lookup } = counting(new Map([[s.learners.Three!.id, 3], [s.learners.Four!.id, 4], [s.learners.Five!.id, 5]]));
    const v = await verdicts(s, { rule: 'lessons', threshold: 4 }, { lessonsCompletedBy: lookup });
    expect(v.Three).toEqual({ state: 'notEligible', why: '3 of 4 lessons completed in the previous period.' });
    expect(v.Four).toEqual({ state: 'eligible', why: '4 of 4 lessons completed in the previous period.' });
    expect(v.Five!.state).toBe('eligible');
  });

  it('when the rule is "at least 1 lesson" and a learner did none, then the reason says 0 of 1', async () => {
    const s = await school(['Nothing']);
    const v = await verdicts(s, { rule: 'lessons', threshold: 1 }, {});
    expect(v.Nothing).toEqual({ state: 'notEligible', why: '0 of 1 lesson completed in the previous period.' });
  });

  it('when the rule is "at least 30 minutes", then 29 minutes 59 seconds is not enough and 30 minutes is', async () => {
    const s = await school(['Short', 'Exact']);
    const { lookup } = counting(new Map([[s.learners.Short!.id, 30 * 60 - 1], [s.learners.Exact!.id, 30 * 60]]));
    const v = await verdicts(s, { rule: 'minutes', threshold: 30 }, { studySecondsBy: lookup });
    expect(v.Short).toEqual({ state: 'notEligible', why: '29 of 30 minutes of study in the previous period.' });
    expect(v.Exact).toEqual({ state: 'eligible', why: '30 of 30 minutes of study in the previous period.' });
  });

  it('when the rule is "an assignment submitted", then none is not enough and one is', async () => {
    const s = await school(['None', 'One', 'Two']);
    const { lookup } = counting(new Map([[s.learners.One!.id, 1], [s.learners.Two!.id, 2]]));
    const v = await verdicts(s, { rule: 'assignment' }, { submissionsBy: lookup });
    expect(v.None).toEqual({ state: 'notEligible', why: 'No assignment submitted in the previous period.' });
    expect(v.One).toEqual({ state: 'eligible', why: '1 assignment submitted in the previous period.' });
    expect(v.Two).toEqual({ state: 'eligible', why: '2 assignments submitted in the previous period.' });
  });

  it('when the rule is "enrolled and active", then a withdrawn learner and a switched-off account are not eligible, and one who left long ago is not listed', async () => {
    const s = await school(['Active', 'Withdrawn', 'Off', 'Gone']);
    const em = t.em();
    await em.nativeUpdate(Enrolment, { learner: s.learners.Withdrawn!.id }, { status: 'withdrawn', withdrawnAt: new Date('2026-02-15T10:00:00Z') });
    await em.nativeUpdate(Enrolment, { learner: s.learners.Gone!.id }, { status: 'withdrawn', withdrawnAt: new Date('2025-06-01T10:00:00Z') });
    await em.nativeUpdate(User, { id: s.learners.Off!.id }, { active: false });
    const v = await verdicts(s, { rule: 'enrolled' }, {});
    expect(v.Active).toEqual({ state: 'eligible', why: 'Enrolled and active.' });
    expect(v.Withdrawn).toEqual({ state: 'notEligible', why: "Not enrolled in one of the scheme's classes any more." });
    expect(v.Off).toEqual({ state: 'notEligible', why: 'The account is switched off.' });
    expect(v.Gone).toBeUndefined();
  });

  it('when activity rules are met but the learner must also be enrolled, then a withdrawn learner with lessons is still not eligible', async () => {
    const s = await school(['Left']);
    await t.em().nativeUpdate(Enrolment, { learner: s.learners.Left!.id }, { status: 'withdrawn', withdrawnAt: new Date('2026-02-20T00:00:00Z') });
    const { lookup } = counting(new Map([[s.learners.Left!.id, 10]]));
    const v = await verdicts(s, { rule: 'lessons', threshold: 2 }, { lessonsCompletedBy: lookup });
    expect(v.Left!.state).toBe('notEligible');
  });

  it('when a scheme is limited to one cohort, then learners of the programme’s other cohorts are not listed', async () => {
    const s = await school(['Inside']);
    const outsider = await makeUser(t.em(), 'learner', { displayName: 'Outside', phone: `+3069140${phone++}` });
    await makeCohort(t.em(), s.programme, { learners: [outsider] });
    const v = await verdicts(s, { rule: 'enrolled', cohortIds: [s.cohort.id] }, {});
    expect(Object.keys(v)).toEqual(['Inside']);
  });
});

describe('periods counted in the learner’s time zone', () => {
  it('when learners live in Jakarta and in London, then each is asked about the previous month from their own midnight', async () => {
    const s = await school(['Jakarta', 'London']);
    await t.em().nativeUpdate(User, { id: s.learners.Jakarta!.id }, { timeZone: 'Asia/Jakarta' });
    await t.em().nativeUpdate(User, { id: s.learners.London!.id }, { timeZone: 'Europe/London' });
    const { lookup, calls } = counting(new Map());
    await verdicts(s, { rule: 'lessons', threshold: 1 }, { lessonsCompletedBy: lookup });
    const byLearner = Object.fromEntries(calls.map((c) => [c.ids[0], { from: c.from.toISOString(), to: c.to.toISOString() }]));
    expect(calls).toHaveLength(2);
    expect(byLearner[s.learners.Jakarta!.id]).toEqual({ from: '2026-01-31T17:00:00.000Z', to: '2026-02-28T17:00:00.000Z' });
    expect(byLearner[s.learners.London!.id]).toEqual({ from: '2026-02-01T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z' });
  });

  it('when lessons are completed around midnight, then the same instants count for a learner in UTC and not for one in Jakarta (real progress records)', async () => {
    const s = await school(['Jakarta edges', 'Jakarta late', 'UTC late']);
    await t.em().nativeUpdate(User, { id: { $in: [s.learners['Jakarta edges']!.id, s.learners['Jakarta late']!.id] } }, { timeZone: 'Asia/Jakarta' });
    const course = await makeCourse(t.em(), { units: [{ lessons: ['text', 'text', 'text', 'text'] }] });
    const lessons = await t.em().find(Lesson, { course: course.id }, { orderBy: { position: 'asc' } });
    const complete = async (learner: User, at: string[]) => {
      const em = t.em();
      at.forEach((when, i) => em.create(LessonProgress, { learner: learner.id, lesson: lessons[i]!.id, course: course.id, startedAt: new Date(when), completedAt: new Date(when), lastVisitedAt: new Date(when) }));
      await em.flush();
    };
    // The first and the last moment of February in Jakarta (UTC+7): both count.
    await complete(s.learners['Jakarta edges']!, ['2026-01-31T17:00:00Z', '2026-02-28T16:59:59Z']);
    // Late on 28 February in UTC is already March in Jakarta: neither counts there, both count in UTC.
    await complete(s.learners['Jakarta late']!, ['2026-02-28T17:00:00Z', '2026-02-28T23:59:00Z']);
    await complete(s.learners['UTC late']!, ['2026-02-28T17:00:00Z', '2026-02-28T23:59:00Z']);
    const v = await verdicts(s, { rule: 'lessons', threshold: 2 }, { lessonsCompletedBy, studySecondsBy });
    expect(v['Jakarta edges']).toEqual({ state: 'eligible', why: '2 of 2 lessons completed in the previous period.' });
    expect(v['Jakarta late']).toEqual({ state: 'notEligible', why: '0 of 2 lessons completed in the previous period.' });
    expect(v['UTC late']).toEqual({ state: 'eligible', why: '2 of 2 lessons completed in the previous period.' });
  });
});
