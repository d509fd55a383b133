/**
 * Who is making the request, as every slice sees them. Loaded once per request by the accounts
 * slice; other slices depend on this shape, never on the User entity.
 */
import type { Request, RequestHandler, Response } from 'express';
import { Forbidden, SignInRequired } from './errors.ts';

export type RoleName = 'learner' | 'teacher' | 'coordinator' | 'admin';

export interface Actor {
  id: number;
  username: string;
  role: RoleName;
  displayName: string;
  language: string | null;
  timeZone: string;
  dataSaver: boolean;
  mustChangePassword: boolean;
}

export function actorOf(res: Response): Actor | undefined {
  return res.locals.currentUser as Actor | undefined;
}

/** The signed-in actor, or a SignInRequired error that the handler turns into a redirect to login. */
export function requireActor(res: Response): Actor {
  const actor = actorOf(res);
  if (!actor) throw new SignInRequired();
  return actor;
}

/**
 * Capabilities are data: each slice lists what can be done and which roles may do it
 * (Moodle's access.php idea). Record-level checks (which cohort, which programme) live in the
 * slice's policy functions beside the list.
 */
export type CapabilityTable<C extends string> = Record<C, { roles: readonly RoleName[]; risk: string }>;

export function can<C extends string>(table: CapabilityTable<C>, actor: Actor | undefined, capability: C): boolean {
  return !!actor && table[capability].roles.includes(actor.role);
}

/** Route guard: signed in, and holding the capability. */
export function requireCapability<C extends string>(table: CapabilityTable<C>, capability: C): RequestHandler {
  return (_req: Request, res: Response, next) => {
    const actor = requireActor(res);
    if (!can(table, actor, capability)) throw new Forbidden();
    next();
  };
}
