/**
 * The learner's figure "You have used 46 MB of Dars this month", where learners look for it:
 * a section of their home page, and a line on their profile (the accounts slice's profile view
 * includes the partial; this hook gives it its figure).
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { RequestHandler } from 'express';
import type { HomeSectionProvider } from '../home/index.ts';
import { actorOf } from '../platform/actor.ts';
import { formatBytes } from '../platform/views.ts';
import { usedThisMonth } from './usage.service.ts';

export const dataAllowanceSection: HomeSectionProvider = async (em, actor) => {
  if (actor.role !== 'learner') return null;
  const { bytes } = await usedThisMonth(em, actor);
  return { partial: 'allowances/home', model: { used: bytes } };
};

/** Mounted before the profile page: puts `dataUsage` where views/partials/allowances/usage-line.hbs reads it. */
export function profileDataUsage(orm: MikroORM): RequestHandler {
  return async (_req, res, next) => {
    const actor = actorOf(res);
    if (actor?.role === 'learner') {
      const { bytes } = await usedThisMonth(orm.em, actor);
      res.locals.dataUsage = { used: formatBytes(bytes, (res.locals.language as string | undefined) ?? 'en') };
    }
    next();
  };
}
