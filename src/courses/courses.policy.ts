import type { FilterQuery } from '@mikro-orm/core';
import type { Actor, CapabilityTable } from '../platform/actor.ts';
import { cohortsManagedBy, cohortsVisibleTo, learnerCohortIdsSql } from '../programmes/index.ts';
import type { Cohort } from '../programmes/index.ts';
import type { Course } from './course.entity.ts';

export const courseCapabilities = {
  'courses:study': { roles: ['learner'], risk: 'opens lessons of courses offered to their own active cohorts; records own progress' },
  'courses:follow': { roles: ['teacher', 'coordinator', 'admin'], risk: 'sees the progress of learners in cohorts they teach or run' },
  'courses:offer': { roles: ['coordinator', 'admin'], risk: 'offers courses to cohorts of their own programmes, which opens them to those learners' },
} as const satisfies CapabilityTable<string>;
export type CourseCapability = keyof typeof courseCapabilities;

/**
 * Courses the actor may see, as a query filter. Learners: offered to one of their active cohorts;
 * teachers: offered to a cohort they teach; coordinators and admins: every course, since they
 * choose which to offer.
 */
export function coursesVisibleTo(actor: Actor): FilterQuery<Course> {
  if (actor.role === 'admin' || actor.role === 'coordinator') return {};
  return { offerings: { cohort: cohortsVisibleTo(actor) } };
}

/**
 * coursesVisibleTo for a learner as an SQL condition, for hand-written statements on hot pages:
 * the course (`courseId`, a column) is offered to one of the learner's (`learner`, a placeholder)
 * active cohorts. Keep it in step with the filter above.
 */
export function offeredToLearnerSql(courseId: string, learner: string) {
  return `EXISTS (SELECT 1 FROM cohort_courses cc WHERE cc.course_id = ${courseId} AND cc.cohort_id IN (${learnerCohortIdsSql(learner)}))`;
}

/** Courses whose learners' progress the actor follows: offered to a cohort they teach or run. */
export function coursesFollowedBy(actor: Actor): FilterQuery<Course> {
  if (actor.role === 'admin') return {};
  if (actor.role === 'learner') return { id: -1 };
  return { offerings: { cohort: cohortsVisibleTo(actor) } };
}

/** Cohorts whose progress the actor may follow (teachers: their own; coordinators: their programmes'). */
export function cohortsFollowedBy(actor: Actor): FilterQuery<Cohort> {
  if (actor.role === 'learner') return { id: -1 };
  return cohortsVisibleTo(actor);
}

/** Cohorts the actor may offer courses to. */
export function cohortsOfferableBy(actor: Actor): FilterQuery<Cohort> {
  return cohortsManagedBy(actor);
}
