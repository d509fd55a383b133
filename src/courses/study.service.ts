/**
 * What the course pages show and do: a learner's catalogue, a course outline with their progress,
 * a lesson with its neighbours, "done", quiz submissions and their results; a teacher's view of a
 * cohort's progress; coordinators offering courses to cohorts.
 */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../platform/actor.ts';
import { Conflict, Forbidden, InvalidInput, NotFound } from '../platform/errors.ts';
import { runPrepared, statement } from '../platform/prepared.ts';
import { Cohort, Enrolment } from '../programmes/index.ts';
import { CohortCourse, Course, CourseCompletion, Lesson, LessonProgress, QuizAttempt, type LessonMedia, type LessonType, type Quiz } from './course.entity.ts';
import { cohortsFollowedBy, cohortsOfferableBy, coursesVisibleTo, offeredToLearnerSql } from './courses.policy.ts';
import { courseUrl, lessonCounts, lessonUrl, mayStudy, unitsOfCourse } from './courses.service.ts';
import { completeLesson, recordQuizResult, recordVisit } from './progress.service.ts';
import { grade, parseAnswers } from './quiz.ts';

/** A course visible to the actor, or NotFound; a learner whose cohorts are not offered it gets Forbidden. */
export async function courseFor(em: EntityManager, actor: Actor, courseId: number) {
  const course = await em.findOne(Course, courseId);
  if (!course) throw new NotFound();
  if (!(await em.count(Course, { $and: [{ id: courseId }, coursesVisibleTo(actor)] }))) throw new Forbidden();
  return course;
}

/** Lessons done, per course, for one learner. */
async function doneCounts(em: EntityManager, learnerId: number, courseIds: number[]) {
  const out = new Map<number, number>();
  if (!courseIds.length) return out;
  const rows = (await em.execute(
    `SELECT p.course_id, count(*)::int AS n FROM lesson_progress p JOIN lessons l ON l.id = p.lesson_id
     WHERE p.learner_id = ? AND p.completed_at IS NOT NULL AND l.retired = false AND p.course_id IN (${courseIds.map(() => '?').join(',')})
     GROUP BY p.course_id`,
    [learnerId, ...courseIds],
  )) as { course_id: number; n: number }[];
  for (const r of rows) out.set(r.course_id, r.n);
  return out;
}

export async function catalogue(em: EntityManager, actor: Actor) {
  const courses = await em.find(Course, coursesVisibleTo(actor), { orderBy: { title: 'asc' } });
  const ids = courses.map((c) => c.id);
  const totals = await lessonCounts(em, ids);
  const done = actor.role === 'learner' ? await doneCounts(em, actor.id, ids) : new Map<number, number>();
  const completed = actor.role === 'learner' ? new Set((await em.find(CourseCompletion, { learner: actor.id, course: { $in: ids } })).map((c) => c.course.id)) : new Set<number>();
  return courses.map((c) => {
    const total = totals.get(c.id) ?? 0;
    const d = done.get(c.id) ?? 0;
    return {
      id: c.id,
      url: courseUrl(c.id),
      title: c.title,
      summary: c.summary,
      level: c.level,
      studyHours: c.studyHours,
      image: c.image,
      total,
      done: d,
      percent: total ? Math.round((100 * d) / total) : 0,
      completed: completed.has(c.id),
    };
  });
}

type LessonState = { done: boolean; bestScore: number | null };

async function progressOf(em: EntityManager, learnerId: number, courseId: number) {
  const rows = await em.find(LessonProgress, { learner: learnerId, course: courseId });
  return new Map<number, LessonState>(rows.map((p) => [p.lesson.id, { done: !!p.completedAt, bestScore: p.bestScore ?? null }]));
}

/** The course page: units with their lessons, and for a learner what is done and where to go next. */
export async function courseOutline(em: EntityManager, actor: Actor, courseId: number) {
  const course = await courseFor(em, actor, courseId);
  const units = await unitsOfCourse(em, courseId);
  const learner = actor.role === 'learner';
  const progress = learner ? await progressOf(em, actor.id, courseId) : new Map<number, LessonState>();
  const lessons = units.flatMap((u) => u.lessons);
  const next = lessons.find((l) => !progress.get(l.id)?.done) ?? null;
  const done = lessons.filter((l) => progress.get(l.id)?.done).length;
  const completion = learner ? await em.findOne(CourseCompletion, { learner: actor.id, course: courseId }) : null;
  return {
    course: { id: course.id, title: course.title, summary: course.summary, level: course.level, studyHours: course.studyHours, license: course.license, image: course.image },
    units: units.map((u) => ({
      title: u.title,
      minutes: u.lessons.reduce((n, l) => n + l.minutes, 0),
      lessons: u.lessons.map((l) => ({ ...l, done: !!progress.get(l.id)?.done, bestScore: progress.get(l.id)?.bestScore ?? null, isNext: l.id === next?.id })),
    })),
    total: lessons.length,
    done,
    percent: lessons.length ? Math.round((100 * done) / lessons.length) : 0,
    completedAt: completion?.completedAt ?? null,
    next: next ? { id: next.id, title: next.title, url: next.url } : null,
    /** Lessons a phone keeps for reading offline: the next few not yet done. */
    offline: lessons.filter((l) => !progress.get(l.id)?.done).slice(0, 3).map((l) => l.url),
  };
}

/** A lesson the actor may open (learners: offered course; staff: a course they follow or, for coordinators, any). */
async function openLesson(em: EntityManager, actor: Actor, lessonId: number) {
  const lesson = await em.findOne(Lesson, { id: lessonId, retired: false }, { populate: ['course', 'unit'] });
  if (!lesson) throw new NotFound();
  if (actor.role === 'learner') {
    if (!(await mayStudy(em, actor, lesson.course.id))) throw new Forbidden();
  } else if (!(await staffMayOpen(em, actor, lesson.course.id))) {
    throw new Forbidden();
  }
  return lesson;
}

/** Staff open the lessons of a course they see. */
async function staffMayOpen(em: EntityManager, actor: Actor, courseId: number) {
  return (await em.count(Course, { $and: [{ id: courseId }, coursesVisibleTo(actor)] })) > 0;
}

async function neighbours(em: EntityManager, lesson: Lesson) {
  const siblings = await em.find(Lesson, { course: lesson.course.id, retired: false }, { orderBy: { position: 'asc' }, fields: ['id', 'title', 'position'] });
  return placeAmong(siblings, lesson.id);
}

/** Where a lesson stands among its course's lessons (in order): the one before and after, its number. */
function placeAmong(siblings: readonly { id: number; title: string }[], lessonId: number) {
  const i = siblings.findIndex((l) => l.id === lessonId);
  const link = (l: { id: number; title: string } | undefined) => (l ? { url: lessonUrl(l.id), title: l.title } : null);
  return { previous: link(siblings[i - 1]), next: link(siblings[i + 1]), number: i + 1, of: siblings.length };
}

/** The lesson as its page shows it: plain values, never an entity. */
export interface LessonOnPage {
  id: number;
  courseId: number;
  title: string;
  type: LessonType;
  minutes: number;
  /** The body for this reader: with images folded behind a tap for learners who save data. */
  bodyHtml: string;
  media: LessonMedia[];
  quiz: Quiz | null;
}

interface LessonPageRow {
  id: number;
  course_id: number;
  title: string;
  type: LessonType;
  minutes: number;
  body_html: string;
  media: LessonMedia[];
  quiz: Quiz | null;
  course_title: string;
  unit_title: string | null;
  may_study: boolean;
  /** [id, title] of the course's lessons in order, retired ones left out. */
  siblings: [number, string][] | null;
  completed_at: string | null;
  best_score: number | null;
  attempts: number | null;
  last_attempt_id: number | null;
}

/**
 * The lesson page's reads in one statement: the lesson with its course and unit titles, the
 * course's other lessons, the learner's progress and last quiz attempt, and whether the course is
 * offered to one of the learner's active cohorts (mayStudy's rule, as SQL). Every learner opens
 * lessons all day: as ORM queries these were five round trips, each paying a socket write and the
 * ORM's query building and hydration; prepared, PostgreSQL plans it once per connection.
 * $1 the learner's id (null for staff, whose rule lessonPage checks apart), $2 the lesson, $3 data saver.
 */
const lessonPageRead = statement(
  `SELECT l.id, l.course_id, l.title, l.type, l.minutes, CASE WHEN $3::boolean THEN l.body_html_data_saver ELSE l.body_html END AS body_html, l.media, l.quiz,
     c.title AS course_title, u.title AS unit_title,
     ($1::int IS NOT NULL AND ${offeredToLearnerSql('l.course_id', '$1')}) AS may_study,
     (SELECT json_agg(json_build_array(s.id, s.title) ORDER BY s.position) FROM lessons s WHERE s.course_id = l.course_id AND NOT s.retired) AS siblings,
     p.completed_at, p.best_score, p.attempts,
     CASE WHEN l.type = 'quiz' THEN (SELECT max(a.id) FROM quiz_attempts a WHERE a.learner_id = $1 AND a.lesson_id = l.id) END AS last_attempt_id
   FROM lessons l JOIN courses c ON c.id = l.course_id LEFT JOIN course_units u ON u.id = l.unit_id
     LEFT JOIN lesson_progress p ON p.learner_id = $1 AND p.lesson_id = l.id
   WHERE l.id = $2 AND NOT l.retired`,
);

/**
 * The lesson page. A learner's visit is recorded (time spent, started) unless the page is only
 * being fetched ahead for offline reading or shown again with a form's errors. Who may open it is
 * openLesson's rule: learners a course offered to one of their active cohorts, staff a course they see.
 */
export async function lessonPage(em: EntityManager, actor: Actor, lessonId: number, opts: { recordVisit: boolean }) {
  const [row] = await runPrepared<LessonPageRow>(em, lessonPageRead, [actor.role === 'learner' ? actor.id : null, lessonId, actor.dataSaver]);
  if (!row) throw new NotFound();
  const learner = actor.role === 'learner';
  if (learner ? !row.may_study : !(await staffMayOpen(em, actor, row.course_id))) throw new Forbidden();
  const lesson: LessonOnPage = {
    id: row.id,
    courseId: row.course_id,
    title: row.title,
    type: row.type,
    minutes: row.minutes,
    bodyHtml: row.body_html,
    media: row.media,
    quiz: row.quiz,
  };
  // A SCORM package keeps its own time and completion (src/scorm): its page only leads there.
  // Recording the visit returns the progress it wrote; otherwise the progress read above is shown.
  const progress =
    learner && opts.recordVisit && lesson.type !== 'scorm'
      ? await recordVisit(em, actor.id, { id: lesson.id, courseId: lesson.courseId })
      : { completedAt: row.completed_at, bestScore: row.best_score, attempts: row.attempts ?? 0 };
  return {
    lesson,
    courseTitle: row.course_title,
    unitTitle: row.unit_title,
    done: !!progress.completedAt,
    bestScore: progress.bestScore ?? null,
    attempts: progress.attempts,
    lastAttemptUrl: row.last_attempt_id ? `${lessonUrl(lesson.id)}/attempts/${row.last_attempt_id}` : null,
    ...placeAmong((row.siblings ?? []).map(([id, title]) => ({ id, title })), lesson.id),
  };
}

/** "Mark as done" on a text, audio or video lesson. Doing it twice changes nothing. Returns where to go next. */
export async function markDone(em: EntityManager, actor: Actor, lessonId: number) {
  if (actor.role !== 'learner') throw new Forbidden();
  const lesson = await openLesson(em, actor, lessonId);
  // A quiz is done by passing it and a SCORM package by finishing it in its player, never by a tap.
  if (lesson.type === 'quiz') throw new Conflict('courses:lesson.quizByPassing');
  if (lesson.type === 'scorm') throw new Conflict('courses:lesson.scormInPlayer');
  const courseComplete = await completeLesson(em, actor.id, { id: lesson.id, courseId: lesson.course.id });
  const { next } = await neighbours(em, lesson);
  return { title: lesson.title, courseId: lesson.course.id, next, courseComplete };
}

/**
 * Grades a quiz submission and records it once: the idempotency key made by the form makes a
 * double tap or an offline answer sent again the same attempt. Returns the attempt's id.
 */
export async function submitQuiz(em: EntityManager, actor: Actor, lessonId: number, body: Record<string, unknown>, key: string) {
  if (actor.role !== 'learner') throw new Forbidden();
  const lesson = await openLesson(em, actor, lessonId);
  if (lesson.type !== 'quiz' || !lesson.quiz) throw new NotFound();
  const earlier = await em.findOne(QuizAttempt, { learner: actor.id, idempotencyKey: key });
  if (earlier) return earlier.id;
  const answers = parseAnswers(lesson.quiz, body);
  const { score, passed, results } = grade(lesson.quiz, answers);
  try {
    return await em.transactional(async (tx) => {
      const attempt = tx.create(QuizAttempt, { learner: actor.id, lesson: lesson.id, idempotencyKey: key, score, passed, results });
      await tx.flush();
      await recordQuizResult(tx, actor.id, { id: lesson.id, courseId: lesson.course.id }, score, passed);
      return attempt.id;
    });
  } catch (err) {
    // The same key arriving twice at once: the other request recorded it.
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
    em.clear();
    const other = await em.findOne(QuizAttempt, { learner: actor.id, idempotencyKey: key });
    if (!other) throw err;
    return other.id;
  }
}

/** One attempt with every question, the learner's answer, the right answer and the explanation. */
export async function attemptResult(em: EntityManager, actor: Actor, lessonId: number, attemptId: number) {
  const attempt = await em.findOne(QuizAttempt, { id: attemptId, lesson: lessonId, learner: actor.id });
  if (!attempt) throw new NotFound();
  const lesson = await openLesson(em, actor, lessonId);
  const byId = new Map(attempt.results.map((r) => [r.id, r]));
  return {
    lesson,
    courseTitle: lesson.course.getEntity().title,
    score: attempt.score,
    passed: attempt.passed,
    passScore: lesson.quiz?.passScore ?? 0,
    submittedAt: attempt.submittedAt,
    questions: (lesson.quiz?.questions ?? []).map((q) => reviewOf(q, byId.get(q.id)?.given ?? [], byId.get(q.id)?.correct ?? false)),
    ...(await neighbours(em, lesson)),
  };
}

/** A question as shown after submitting (or to staff): every option marked right or chosen. */
export function reviewOf(q: NonNullable<Lesson['quiz']>['questions'][number], given: string[], correct: boolean) {
  return {
    prompt: q.prompt,
    correct,
    fill: q.type === 'fill',
    given: q.type === 'fill' ? (given[0] ?? '') : null,
    answers: q.answers,
    options: q.options.map((o) => ({ text: o.text, right: o.correct, chosen: given.includes(o.id) })),
    explanation: q.explanation,
  };
}

/** The home page's "continue where you stopped": the lesson last opened, or the next one after it if that is done. */
export async function whereToContinue(em: EntityManager, actor: Actor) {
  if (actor.role !== 'learner') return null;
  const courses = await em.find(Course, coursesVisibleTo(actor), { orderBy: { title: 'asc' }, fields: ['id', 'title'] });
  if (!courses.length) return null;
  const ids = courses.map((c) => c.id);
  const last = await em.findOne(LessonProgress, { learner: actor.id, course: { $in: ids }, lesson: { retired: false } }, { orderBy: { lastVisitedAt: 'desc' }, populate: ['lesson'] });
  const courseId = last?.course.id ?? courses[0]!.id;
  const course = courses.find((c) => c.id === courseId)!;
  const outline = await courseOutline(em, actor, courseId);
  const lastLesson = last?.lesson.getEntity();
  const lesson = lastLesson && !last?.completedAt ? { title: lastLesson.title, url: lessonUrl(lastLesson.id) } : outline.next;
  return {
    started: !!last,
    course: { title: course.title, url: courseUrl(course.id), done: outline.done, total: outline.total, percent: outline.percent },
    lesson,
  };
}

/** The courses a teacher's classes take, each with the way to its progress page: for the teacher's home. */
export async function classesToFollow(em: EntityManager, actor: Actor) {
  if (actor.role !== 'teacher') return [];
  const offers = await em.find(CohortCourse, { cohort: cohortsFollowedBy(actor) }, { populate: ['cohort', 'course'], orderBy: { cohort: { name: 'asc' }, course: { title: 'asc' } } });
  return offers.map((o) => ({
    cohort: o.cohort.getEntity().name,
    course: o.course.getEntity().title,
    progressUrl: `/cohorts/${o.cohort.id}/courses/${o.course.id}/progress`,
  }));
}

/** A cohort's progress in a course, lesson by lesson, for its teachers and coordinators. */
export async function cohortProgress(em: EntityManager, actor: Actor, cohortId: number, courseId: number) {
  const cohort = await em.findOne(Cohort, { $and: [{ id: cohortId }, cohortsFollowedBy(actor)] });
  if (!cohort) throw new NotFound();
  if (!(await em.count(CohortCourse, { cohort: cohortId, course: courseId }))) throw new NotFound();
  const course = await em.findOneOrFail(Course, courseId);
  const lessons = (await unitsOfCourse(em, courseId)).flatMap((u) => u.lessons);
  const enrolments = await em.find(Enrolment, { cohort: cohortId, status: 'active' }, { populate: ['learner'], orderBy: { learner: { displayName: 'asc' } } });
  const learnerIds = enrolments.map((e) => e.learner.id);
  const rows = learnerIds.length ? await em.find(LessonProgress, { course: courseId, learner: { $in: learnerIds } }) : [];
  const cell = new Map(rows.map((p) => [`${p.learner.id}:${p.lesson.id}`, p]));
  return {
    cohort: { id: cohort.id, name: cohort.name },
    course: { id: course.id, title: course.title, url: courseUrl(course.id) },
    lessons: lessons.map((l, i) => {
      const done = learnerIds.filter((id) => cell.get(`${id}:${l.id}`)?.completedAt).length;
      return { number: i + 1, title: l.title, type: l.type, done, of: learnerIds.length };
    }),
    learners: enrolments.map((e) => {
      const cells = lessons.map((l) => {
        const p = cell.get(`${e.learner.id}:${l.id}`);
        return { done: !!p?.completedAt, started: !!p, score: p?.bestScore ?? null, minutes: p ? Math.round(p.secondsSpent / 60) : 0 };
      });
      return { name: e.learner.getEntity().displayName, done: cells.filter((c) => c.done).length, minutes: cells.reduce((n, c) => n + c.minutes, 0), cells };
    }),
  };
}

/** Offers on a course page: the cohorts it is offered to that the actor sees, and those they may still offer it to. */
export async function offersOf(em: EntityManager, actor: Actor, courseId: number) {
  const offers = await em.find(CohortCourse, { course: courseId, cohort: cohortsFollowedBy(actor) }, { populate: ['cohort', 'cohort.programme'], orderBy: { cohort: { name: 'asc' } } });
  const managed = await em.find(Cohort, cohortsOfferableBy(actor), { populate: ['programme'], orderBy: { name: 'asc' } });
  const offered = new Set(offers.map((o) => o.cohort.id));
  const manages = new Set(managed.map((c) => c.id));
  return {
    offers: offers.map((o) => ({
      cohortId: o.cohort.id,
      name: o.cohort.getEntity().name,
      programme: o.cohort.getEntity().programme.getEntity().name,
      progressUrl: `/cohorts/${o.cohort.id}/courses/${courseId}/progress`,
      canWithdraw: manages.has(o.cohort.id),
    })),
    offerable: managed.filter((c) => !offered.has(c.id)).map((c) => ({ id: c.id, name: c.name, programme: c.programme.getEntity().name })),
  };
}

export async function offerCourse(em: EntityManager, actor: Actor, courseId: number, cohortId: number) {
  await courseFor(em, actor, courseId);
  const cohort = await em.findOne(Cohort, { $and: [{ id: cohortId }, cohortsOfferableBy(actor)] });
  if (!cohort) throw new InvalidInput({ cohortId: { key: 'validation:choose' } });
  await em.execute(
    `INSERT INTO cohort_courses (cohort_id, course_id, offered_by_id, offered_at) VALUES (?, ?, ?, now()) ON CONFLICT (cohort_id, course_id) DO NOTHING`,
    [cohort.id, courseId, actor.id],
  );
  return cohort;
}

export async function withdrawOffer(em: EntityManager, actor: Actor, courseId: number, cohortId: number) {
  const cohort = await em.findOne(Cohort, { $and: [{ id: cohortId }, cohortsOfferableBy(actor)] });
  if (!cohort) throw new NotFound();
  const offer = await em.findOne(CohortCourse, { cohort: cohortId, course: courseId });
  if (!offer) throw new NotFound();
  // Progress stays: learners who are offered the course again find their work where they left it.
  await em.remove(offer).flush();
  return cohort;
}
