import type { FilterQuery } from '@mikro-orm/core';
import type { Actor, CapabilityTable } from '../platform/actor.ts';
import type { Announcement } from './announcement.entity.ts';
import type { Shift } from './shift.entity.ts';
import type { Thread } from './thread.entity.ts';

export const oncallCapabilities = {
  'oncall:ask': { roles: ['learner'], risk: 'sends a question, a photo or a voice note to the teachers of their own cohort' },
  'oncall:answer': { roles: ['teacher'], risk: "reads learners' questions, photos and voice notes (own cohorts only) and answers them" },
  'oncall:rota': { roles: ['teacher'], risk: 'tells learners when they are on call (own cohorts only)' },
  'oncall:announce': { roles: ['teacher'], risk: 'writes to every learner of a cohort (own cohorts only)' },
  'oncall:responseTimes': { roles: ['coordinator', 'admin'], risk: 'sees how fast teachers answer, and which learners wait (own programmes only)' },
} as const satisfies CapabilityTable<string>;
export type OncallCapability = keyof typeof oncallCapabilities;

/**
 * Threads are private between a learner and the teachers of the cohort asked: a learner reads
 * only their own, a teacher only those of cohorts they teach today. Nobody else reads them;
 * coordinators see figures, not words.
 */
export function threadsVisibleTo(actor: Actor): FilterQuery<Thread> {
  if (actor.role === 'learner') return { learner: actor.id };
  if (actor.role === 'teacher') return { cohort: { teachers: actor.id } };
  return { id: -1 };
}

/** Who may add to a thread: the learner who asked, the teachers of its cohort. */
export const threadsWritableBy = threadsVisibleTo;

export function announcementsVisibleTo(actor: Actor): FilterQuery<Announcement> {
  if (actor.role === 'learner') return { cohort: { enrolments: { learner: actor.id, status: 'active' } } };
  if (actor.role === 'teacher') return { cohort: { teachers: actor.id } };
  return { id: -1 };
}

/** A teacher changes only their own shifts, and only while they teach the cohort. */
export function shiftsManagedBy(actor: Actor): FilterQuery<Shift> {
  if (actor.role === 'teacher') return { teacher: actor.id, cohort: { teachers: actor.id } };
  return { id: -1 };
}
