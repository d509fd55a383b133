import type { Actor, CapabilityTable } from '../platform/actor.ts';

export const reportCapabilities = {
  'reports:view': { roles: ['coordinator', 'admin'], risk: 'sees figures about learners, broken down by sex, age, nationality, legal status and disability (coordinators: own programmes only)' },
} as const satisfies CapabilityTable<string>;
export type ReportCapability = keyof typeof reportCapabilities;

/**
 * Whose programmes a report may count: admins every programme, coordinators those they
 * coordinate. The report queries turn this into a SQL condition on cohorts (queries/scope.ts), so
 * nothing outside it is ever read.
 */
export interface ReportViewer {
  /** null: every programme (admin). */
  coordinatorId: number | null;
}

export function reportViewer(actor: Actor): ReportViewer {
  return { coordinatorId: actor.role === 'admin' ? null : actor.id };
}
