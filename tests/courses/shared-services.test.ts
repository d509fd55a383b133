import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toActor } from '../../src/accounts/index.ts';
import { Lesson, coursesOfCohort, lessonForLearner, lessonForStaff, lessonsCompletedBy, quizScoresFor, studySecondsBy, unitsOfCourse } from '../../src/courses/index.ts';
import { completeLesson, recordQuizResult, recordVisit } from '../../src/courses/progress.service.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCourse, makeSchool, offerCourse } from '../support/factories.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());

async function arrange() {
  const em = t.em();
  const school = await makeSchool(em);
  const course = await makeCourse(em, { title: 'Greek for tests', units: [{ lessons: ['text', 'text'] }, { lessons: ['quiz'] }] });
  const other = await makeCourse(em, { title: 'Not offered' });
  await offerCourse(em, school.cohortA, course);
  const lessons = await em.find(Lesson, { course }, { orderBy: { position: 'asc' } });
  return { ...school, course, other, lessons, em };
}

describe('what other slices read from courses', () => {
  it('when a learner of an offered cohort asks for a lesson, then they get its context; others get 403, a missing lesson 404', async () => {
    const s = await arrange();
    const ctx = await lessonForLearner(s.em, toActor(s.learnerA1), s.lessons[0]!.id);
    expect(ctx).toEqual({ id: s.lessons[0]!.id, title: 'Lesson 1', courseId: s.course.id, courseTitle: 'Greek for tests', url: `/lessons/${s.lessons[0]!.id}` });
    await expect(lessonForLearner(s.em, toActor(s.learnerB1), s.lessons[0]!.id)).rejects.toMatchObject({ status: 403 });
    await expect(lessonForLearner(s.em, toActor(s.teacherA), s.lessons[0]!.id)).rejects.toMatchObject({ status: 403 });
    await expect(lessonForLearner(s.em, toActor(s.learnerA1), 999_999)).rejects.toMatchObject({ status: 404 });
  });

  it('when staff ask for a lesson, then only teachers and coordinators of an offered cohort (and admins) get it', async () => {
    const s = await arrange();
    const id = s.lessons[1]!.id;
    expect((await lessonForStaff(s.em, toActor(s.teacherA), id)).courseId).toBe(s.course.id);
    expect((await lessonForStaff(s.em, toActor(s.coordinatorA), id)).courseId).toBe(s.course.id);
    expect((await lessonForStaff(s.em, toActor(s.admin), id)).courseId).toBe(s.course.id);
    await expect(lessonForStaff(s.em, toActor(s.teacherB), id)).rejects.toMatchObject({ status: 403 });
    await expect(lessonForStaff(s.em, toActor(s.coordinatorB), id)).rejects.toMatchObject({ status: 403 });
    await expect(lessonForStaff(s.em, toActor(s.learnerA1), id)).rejects.toMatchObject({ status: 403 });
  });

  it('when a cohort is offered a course, then coursesOfCohort and unitsOfCourse list it in order', async () => {
    const s = await arrange();
    const courses = await coursesOfCohort(s.em, s.cohortA.id);
    expect(courses.map((c) => [c.title, c.lessonCount])).toEqual([['Greek for tests', 3]]);
    expect(await coursesOfCohort(s.em, s.cohortB.id)).toEqual([]);
    const units = await unitsOfCourse(s.em, s.course.id);
    expect(units.map((u) => [u.title, u.lessons.map((l) => l.title)])).toEqual([
      ['Unit 1', ['Lesson 1', 'Lesson 2']],
      ['Unit 2', ['Lesson 3']],
    ]);
  });

  it('when learners complete lessons, study and pass quizzes, then the counts, seconds and scores add up by period', async () => {
    const s = await arrange();
    const [l1, l2, quiz] = s.lessons.map((l) => ({ id: l.id, courseId: s.course.id }));
    const a1 = s.learnerA1.id;
    const a2 = s.learnerA2.id;
    await recordVisit(s.em, a1, l1!, new Date('2026-03-01T10:00:00Z'));
    await completeLesson(s.em, a1, l1!, new Date('2026-03-01T10:04:00Z')); // 240 s
    await completeLesson(s.em, a1, l1!, new Date('2026-03-01T10:05:00Z')); // again: still one
    await recordVisit(s.em, a1, l2!, new Date('2026-03-02T09:00:00Z'));
    await recordVisit(s.em, a1, quiz!, new Date('2026-03-02T12:00:00Z')); // l2 left open 3 h: capped at 20 min
    await recordQuizResult(s.em, a1, quiz!, 40, false, new Date('2026-03-02T12:01:00Z'));
    await recordQuizResult(s.em, a1, quiz!, 100, true, new Date('2026-03-03T08:00:00Z'));
    await completeLesson(s.em, a2, l2!, new Date('2026-03-05T08:00:00Z'));

    const march = [new Date('2026-03-01T00:00:00Z'), new Date('2026-04-01T00:00:00Z')] as const;
    expect(await lessonsCompletedBy(s.em, [a1, a2], ...march)).toEqual(new Map([[a1, 2], [a2, 1]]));
    expect(await lessonsCompletedBy(s.em, [a1], new Date('2026-03-02T00:00:00Z'), new Date('2026-03-03T00:00:00Z'))).toEqual(new Map([[a1, 0]]));
    expect((await studySecondsBy(s.em, [a1, a2], ...march)).get(a1)).toBe(240 + 1200 + 60);
    expect((await studySecondsBy(s.em, [a1], new Date('2026-03-02T00:00:00Z'), new Date('2026-03-03T00:00:00Z'))).get(a1)).toBe(1200 + 60);
    expect(await studySecondsBy(s.em, [a2], ...march)).toEqual(new Map([[a2, 0]]));
    expect(await quizScoresFor(s.em, [a1, a2])).toEqual([{ learnerId: a1, lessonId: quiz!.id, lessonTitle: 'Lesson 3', courseId: s.course.id, bestScore: 100 }]);
    expect(await quizScoresFor(s.em, [a1], [s.other.id])).toEqual([]);
  });

  it('when a learner reloads a lesson, even twice at once, then each stretch of the visit is credited once and the page gets their progress', async () => {
    const s = await arrange();
    const [l1, l2] = s.lessons.map((l) => ({ id: l.id, courseId: s.course.id }));
    const a1 = s.learnerA1.id;
    expect(await recordVisit(s.em, a1, l1!, new Date('2026-03-01T10:00:00Z'))).toEqual({ completedAt: null, bestScore: null, attempts: 0 });
    await Promise.all([t.em(), t.em()].map((em) => recordVisit(em, a1, l1!, new Date('2026-03-01T10:02:00Z')))); // 120 s, not twice
    await completeLesson(s.em, a1, l1!, new Date('2026-03-01T10:03:00Z')); // 60 s
    const again = await recordVisit(s.em, a1, l1!, new Date('2026-03-01T10:05:00Z'));
    expect(again.completedAt).toEqual(new Date('2026-03-01T10:03:00Z'));
    await recordVisit(s.em, a1, l2!, new Date('2026-03-01T10:06:00Z')); // closes l1's visit: 60 s
    const march = [new Date('2026-03-01T00:00:00Z'), new Date('2026-04-01T00:00:00Z')] as const;
    expect((await studySecondsBy(s.em, [a1], ...march)).get(a1)).toBe(120 + 60 + 60);
    const [row] = (await s.em.execute(`SELECT seconds_spent FROM lesson_progress WHERE learner_id = ? AND lesson_id = ?`, [a1, l1!.id])) as { seconds_spent: number }[];
    expect(row!.seconds_spent).toBe(240);
  });
});
