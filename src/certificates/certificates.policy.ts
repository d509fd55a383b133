import type { FilterQuery } from '@mikro-orm/core';
import type { Course } from '../courses/index.ts';
import type { Actor, CapabilityTable } from '../platform/actor.ts';
import { cohortsManagedBy, type Enrolment } from '../programmes/index.ts';
import type { Certificate } from './certificate.entity.ts';

export const certificateCapabilities = {
  'certificates:hold': { roles: ['learner'], risk: 'sees and downloads own certificates; chooses the name and language printed on them' },
  'certificates:manage': {
    roles: ['coordinator', 'admin'],
    risk: 'issues and revokes certificates by hand and sets what a course asks for one (own programmes only); sees the audit trail',
  },
} as const satisfies CapabilityTable<string>;
export type CertificateCapability = keyof typeof certificateCapabilities;

/** Certificates the actor may open: a learner their own, a coordinator those of their programmes. */
export function certificatesVisibleTo(actor: Actor): FilterQuery<Certificate> {
  switch (actor.role) {
    case 'admin':
      return {};
    case 'coordinator':
      return { programme: { coordinators: actor.id } };
    case 'learner':
      return { learner: actor.id };
    case 'teacher':
      return { id: -1 };
  }
}

/** Certificates the actor may revoke: those of programmes they run. */
export function certificatesManagedBy(actor: Actor): FilterQuery<Certificate> {
  if (actor.role === 'admin') return {};
  if (actor.role === 'coordinator') return { programme: { coordinators: actor.id } };
  return { id: -1 };
}

/** Courses whose certificate rule the actor may set: offered to a cohort of a programme they run. */
export function courseRulesManagedBy(actor: Actor): FilterQuery<Course> {
  if (actor.role === 'admin') return {};
  if (actor.role === 'coordinator') return { offerings: { cohort: cohortsManagedBy(actor) } };
  return { id: -1 };
}

/** Enrolments through which the actor may issue a certificate by hand: in cohorts they manage. */
export function enrolmentsIssuableBy(actor: Actor): FilterQuery<Enrolment> {
  return { cohort: cohortsManagedBy(actor) };
}
