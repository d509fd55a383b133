import type { FilterQuery } from '@mikro-orm/core';
import type { Actor, CapabilityTable } from '../platform/actor.ts';
import type { Assignment, Submission } from './assignment.entity.ts';

export const assignmentCapabilities = {
  'assignments:set': { roles: ['teacher', 'admin'], risk: "sets work for cohorts and sees their learners' names (teachers: own cohorts only)" },
  'assignments:grade': { roles: ['teacher', 'admin'], risk: "opens learners' work — photos, recordings, texts — and decides their grades (teachers: own cohorts only)" },
  'assignments:gradebook': { roles: ['teacher', 'coordinator', 'admin'], risk: 'sees every grade of a cohort, including unreleased ones, and exports them (own cohorts / programmes only)' },
  'assignments:submit': { roles: ['learner'], risk: 'hands in work for the cohorts they are enrolled in' },
} as const satisfies CapabilityTable<string>;
export type AssignmentCapability = keyof typeof assignmentCapabilities;

/** Assignments an actor may see. Learners: of their active cohorts, once open. */
export function assignmentsVisibleTo(actor: Actor, now: Date): FilterQuery<Assignment> {
  switch (actor.role) {
    case 'admin':
      return {};
    case 'coordinator':
      return { cohorts: { programme: { coordinators: actor.id } } };
    case 'teacher':
      return { cohorts: { teachers: actor.id } };
    case 'learner':
      return { cohorts: { enrolments: { learner: actor.id, status: 'active' } }, opensAt: { $lte: now } };
  }
}

/** Assignments an actor may change: their own (admins: any). */
export function assignmentsManagedBy(actor: Actor): FilterQuery<Assignment> {
  if (actor.role === 'admin') return {};
  if (actor.role === 'teacher') return { createdBy: actor.id };
  return { id: -1 };
}

/**
 * Submissions an actor may open. A learner: only their own. A teacher: work handed in through a
 * cohort they teach — never another teacher's cohort, even for an assignment the two share.
 */
export function submissionsVisibleTo(actor: Actor): FilterQuery<Submission> {
  switch (actor.role) {
    case 'admin':
      return {};
    case 'coordinator':
      return { cohort: { programme: { coordinators: actor.id } } };
    case 'teacher':
      return { cohort: { teachers: actor.id } };
    case 'learner':
      return { learner: actor.id };
  }
}

/** Submissions an actor may grade: a teacher's cohorts (admins: any). Coordinators only look. */
export function submissionsGradableBy(actor: Actor): FilterQuery<Submission> {
  if (actor.role === 'admin') return {};
  if (actor.role === 'teacher') return { cohort: { teachers: actor.id } };
  return { id: -1 };
}
