/**
 * Reading courses: who may open what, and the shapes other slices and the pages need.
 * Every function takes an EntityManager; the ones deciding access also take the Actor.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../platform/actor.ts';
import { Forbidden, NotFound } from '../platform/errors.ts';
import { CohortCourse, Course, Lesson, Unit } from './course.entity.ts';
import { coursesFollowedBy, coursesVisibleTo } from './courses.policy.ts';

/** What another slice needs to show or link a lesson. */
export interface LessonContext {
  id: number;
  title: string;
  courseId: number;
  courseTitle: string;
  url: string;
}

export function lessonUrl(lessonId: number) {
  return `/lessons/${lessonId}`;
}

export function courseUrl(courseId: number) {
  return `/courses/${courseId}`;
}

function contextOf(lesson: Lesson): LessonContext {
  return { id: lesson.id, title: lesson.title, courseId: lesson.course.id, courseTitle: lesson.course.getEntity().title, url: lessonUrl(lesson.id) };
}

async function currentLesson(em: EntityManager, lessonId: number) {
  const lesson = await em.findOne(Lesson, { id: lessonId, retired: false }, { populate: ['course'] });
  if (!lesson) throw new NotFound();
  return lesson;
}

/** A lesson the learner may open: its course is offered to one of their active cohorts. 404 when there is no such lesson, 403 when it is not theirs. */
export async function lessonForLearner(em: EntityManager, actor: Actor, lessonId: number): Promise<LessonContext> {
  const lesson = await currentLesson(em, lessonId);
  if (actor.role !== 'learner' || !(await mayStudy(em, actor, lesson.course.id))) throw new Forbidden();
  return contextOf(lesson);
}

/** A lesson a teacher or coordinator follows: its course is offered to a cohort they teach or run. */
export async function lessonForStaff(em: EntityManager, actor: Actor, lessonId: number): Promise<LessonContext> {
  const lesson = await currentLesson(em, lessonId);
  if (actor.role === 'learner' || !(await em.count(Course, { $and: [{ id: lesson.course.id }, coursesFollowedBy(actor)] }))) throw new Forbidden();
  return contextOf(lesson);
}

export async function mayStudy(em: EntityManager, actor: Actor, courseId: number) {
  return actor.role === 'learner' && (await em.count(Course, { $and: [{ id: courseId }, coursesVisibleTo(actor)] })) > 0;
}

export interface CourseSummary {
  id: number;
  slug: string;
  title: string;
  language: string;
  level: string;
  subject: string;
  studyHours: number;
  lessonCount: number;
  url: string;
}

async function summaries(em: EntityManager, courses: Course[]): Promise<CourseSummary[]> {
  const counts = await lessonCounts(em, courses.map((c) => c.id));
  return courses.map((c) => ({
    id: c.id,
    slug: c.slug,
    title: c.title,
    language: c.language,
    level: c.level,
    subject: c.subject,
    studyHours: c.studyHours,
    lessonCount: counts.get(c.id) ?? 0,
    url: courseUrl(c.id),
  }));
}

/** Lessons in each course, retired ones left out. */
export async function lessonCounts(em: EntityManager, courseIds: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (!courseIds.length) return out;
  const rows = (await em.execute(
    `SELECT course_id, count(*)::int AS n FROM lessons WHERE retired = false AND course_id IN (${courseIds.map(() => '?').join(',')}) GROUP BY course_id`,
    courseIds,
  )) as { course_id: number; n: number }[];
  for (const r of rows) out.set(r.course_id, r.n);
  return out;
}

/** Courses offered to a cohort, by title. The caller has already decided the cohort is theirs to see. */
export async function coursesOfCohort(em: EntityManager, cohortId: number): Promise<CourseSummary[]> {
  const courses = await em.find(Course, { offerings: { cohort: cohortId } }, { orderBy: { title: 'asc' } });
  return summaries(em, courses);
}

/** Courses the actor may see (learners: offered to their active cohorts). */
export async function coursesVisibleToActor(em: EntityManager, actor: Actor): Promise<CourseSummary[]> {
  const courses = await em.find(Course, coursesVisibleTo(actor), { orderBy: { title: 'asc' } });
  return summaries(em, courses);
}

export interface UnitOutline {
  id: number;
  slug: string;
  title: string;
  position: number;
  lessons: { id: number; slug: string; title: string; type: Lesson['type']; minutes: number; position: number; url: string }[];
}

/** A course's units in order, each with its current lessons in order. */
export async function unitsOfCourse(em: EntityManager, courseId: number): Promise<UnitOutline[]> {
  const units = await em.find(Unit, { course: courseId }, { orderBy: { position: 'asc' } });
  const lessons = await em.find(Lesson, { course: courseId, retired: false }, { orderBy: { position: 'asc' } });
  return units.map((u) => ({
    id: u.id,
    slug: u.slug,
    title: u.title,
    position: u.position,
    lessons: lessons
      .filter((l) => l.unit?.id === u.id)
      .map((l) => ({ id: l.id, slug: l.slug, title: l.title, type: l.type, minutes: l.minutes, position: l.position, url: lessonUrl(l.id) })),
  }));
}

/**
 * A lesson uploaded in Dars rather than written in the course files (a SCORM package, whose slice
 * keeps the package and links it to this lesson), placed last in its unit. Re-importing the
 * course files keeps it while its unit remains.
 */
export async function createScormLesson(em: EntityManager, courseId: number, unitId: number, title: string, packageRef: string): Promise<Lesson> {
  const unit = await em.findOne(Unit, { id: unitId, course: courseId });
  if (!unit) throw new NotFound();
  const [last] = (await em.execute(`SELECT coalesce(max(position), 0)::int AS p FROM lessons WHERE course_id = ?`, [courseId])) as { p: number }[];
  // A package says nothing of its length; 20 minutes is a typical module and only caps credited visit time.
  const lesson = em.create(Lesson, { course: courseId, unit, slug: packageRef, title, type: 'scorm', minutes: 20, position: (last?.p ?? 0) + 1, bodyHtml: '', bodyHtmlDataSaver: '', media: [], quiz: null });
  await em.flush();
  return lesson;
}

/** Ids of the cohorts a course is offered to. */
export async function cohortIdsOffered(em: EntityManager, courseId: number): Promise<number[]> {
  const offers = await em.find(CohortCourse, { course: courseId });
  return offers.map((o) => o.cohort.id);
}
