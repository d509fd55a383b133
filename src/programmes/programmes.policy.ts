import type { FilterQuery } from '@mikro-orm/core';
import type { Actor, CapabilityTable } from '../platform/actor.ts';
import type { Cohort, Enrolment, Programme } from './programme.entity.ts';

export const programmeCapabilities = {
  'programmes:create': { roles: ['admin'], risk: 'creates programmes and names their coordinators' },
  'programmes:manage': { roles: ['coordinator', 'admin'], risk: 'enrols learners, assigns teachers, sees personal data (own programmes only)' },
  'cohorts:view': { roles: ['teacher', 'coordinator', 'admin'], risk: 'sees the learners of a cohort (teachers: own cohorts only)' },
  'cohorts:join': { roles: ['learner'], risk: 'joins a cohort with its enrolment code' },
} as const satisfies CapabilityTable<string>;
export type ProgrammeCapability = keyof typeof programmeCapabilities;

/** Every permission is also a query filter, so lists are filtered in SQL (Kolibri's idea). */
export function programmesVisibleTo(actor: Actor): FilterQuery<Programme> {
  if (actor.role === 'admin') return {};
  if (actor.role === 'coordinator') return { coordinators: actor.id };
  return { id: -1 };
}

/** Programmes the actor may change. Same as visible: only coordinators of it and admins. */
export const programmesManagedBy = programmesVisibleTo;

export function cohortsVisibleTo(actor: Actor): FilterQuery<Cohort> {
  switch (actor.role) {
    case 'admin':
      return {};
    case 'coordinator':
      return { programme: { coordinators: actor.id } };
    case 'teacher':
      return { teachers: actor.id };
    case 'learner':
      return { enrolments: { learner: actor.id, status: 'active' } };
  }
}

/**
 * cohortsVisibleTo for a learner, for hand-written statements on hot pages: the ids of the cohorts
 * the learner is actively enrolled in; `learner` is the SQL of the learner's id (a placeholder).
 * Keep it in step with the filter above.
 */
export function learnerCohortIdsSql(learner: string) {
  return `SELECT cohort_id FROM enrolments WHERE learner_id = ${learner} AND status = 'active'`;
}

export function cohortsManagedBy(actor: Actor): FilterQuery<Cohort> {
  if (actor.role === 'admin') return {};
  if (actor.role === 'coordinator') return { programme: { coordinators: actor.id } };
  return { id: -1 };
}

export function enrolmentsVisibleTo(actor: Actor): FilterQuery<Enrolment> {
  if (actor.role === 'learner') return { learner: actor.id };
  return { cohort: cohortsVisibleTo(actor) };
}
