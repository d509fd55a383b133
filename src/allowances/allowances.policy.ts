import type { FilterQuery } from '@mikro-orm/core';
import type { Actor, CapabilityTable } from '../platform/actor.ts';
import type { Programme } from '../programmes/index.ts';
import type { AllowanceScheme } from './allowance.entity.ts';

export const allowanceCapabilities = {
  'allowances:manage': {
    roles: ['coordinator', 'admin'],
    risk: 'spends the programme’s money and sees learners’ phone numbers (only programmes they coordinate)',
  },
  'allowances:viewOwn': { roles: ['learner'], risk: 'sees their own allowances and data use' },
} as const satisfies CapabilityTable<string>;
export type AllowanceCapability = keyof typeof allowanceCapabilities;

/**
 * Programmes whose allowances an actor may see and issue: only those they coordinate. Unlike
 * other pages, an administrator is no exception: paying out is for the programme's own
 * coordinators, and an administrator who must do it adds themselves as one first.
 */
export function programmesPayableBy(actor: Actor): FilterQuery<Programme> {
  if (actor.role === 'coordinator' || actor.role === 'admin') return { coordinators: actor.id };
  return { id: -1 };
}

export function schemesVisibleTo(actor: Actor): FilterQuery<AllowanceScheme> {
  if (actor.role === 'coordinator' || actor.role === 'admin') return { programme: { coordinators: actor.id } };
  return { id: -1 };
}
