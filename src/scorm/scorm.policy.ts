import type { EntityManager } from '@mikro-orm/postgresql';
import { CohortCourse, Course, coursesFollowedBy } from '../courses/index.ts';
import type { Actor, CapabilityTable } from '../platform/actor.ts';
import { Enrolment, enrolmentsVisibleTo } from '../programmes/index.ts';

export const scormCapabilities = {
  'scorm:import': {
    roles: ['teacher', 'coordinator', 'admin'],
    risk: 'adds a SCORM lesson to a course they follow; its package runs (isolated on the content origin) for every learner of that course',
  },
  'scorm:play': { roles: ['learner'], risk: 'plays SCORM lessons of courses offered to their own cohorts and writes their own attempt data' },
  'scorm:follow': {
    roles: ['teacher', 'coordinator', 'admin'],
    risk: "sees learners' SCORM status, scores, time and answers (teachers: their cohorts; coordinators: their programmes)",
  },
} as const satisfies CapabilityTable<string>;
export type ScormCapability = keyof typeof scormCapabilities;

/** Whether the actor may add lessons to this course: they follow it (admins follow every course). */
export async function mayImportInto(em: EntityManager, actor: Actor, courseId: number) {
  return (await em.count(Course, { $and: [{ id: courseId }, coursesFollowedBy(actor)] })) > 0;
}

/**
 * The learners whose SCORM data the actor may see for a course: actively enrolled in a cohort the
 * actor may see (teachers: theirs; coordinators: their programmes') that the course is offered to.
 * Returned as ids so the attempt queries filter in SQL.
 */
export async function learnersFollowedBy(em: EntityManager, actor: Actor, courseId: number): Promise<number[]> {
  const offered = (await em.find(CohortCourse, { course: courseId })).map((o) => o.cohort.id);
  if (!offered.length) return [];
  const enrolments = await em.find(Enrolment, { $and: [enrolmentsVisibleTo(actor), { status: 'active', cohort: { $in: offered } }] });
  return [...new Set(enrolments.map((e) => e.learner.id))];
}
