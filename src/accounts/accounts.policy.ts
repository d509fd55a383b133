import type { FilterQuery } from '@mikro-orm/core';
import type { Actor, CapabilityTable, RoleName } from '../platform/actor.ts';
import type { User } from './user.entity.ts';

export const accountCapabilities = {
  'accounts:manageUsers': { roles: ['coordinator', 'admin'], risk: 'sees personal data of learners; can reset their passwords' },
  'accounts:grantStaffRoles': { roles: ['admin'], risk: 'can create coordinators and admins, who see whole programmes' },
} as const satisfies CapabilityTable<string>;
export type AccountCapability = keyof typeof accountCapabilities;

/** Roles an actor may give to an account they create. */
export function assignableRoles(actor: Actor): RoleName[] {
  return actor.role === 'admin' ? ['learner', 'teacher', 'coordinator', 'admin'] : ['learner', 'teacher'];
}

/**
 * Which users an actor may see and manage, as a query filter. Admins: everyone. Coordinators:
 * learners and teachers they created or who study or teach in their programmes' cohorts (the
 * programmes slice supplies those ids, see app.ts).
 */
export function manageableUsersFilter(actor: Actor, inMyProgrammes: FilterQuery<User>): FilterQuery<User> {
  if (actor.role === 'admin') return {};
  if (actor.role !== 'coordinator') return { id: -1 };
  return { role: { $in: ['learner', 'teacher'] }, $or: [{ createdBy: actor.id }, inMyProgrammes] };
}
