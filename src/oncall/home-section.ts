import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../platform/actor.ts';
import { cohortsOfLearner } from '../programmes/index.ts';
import { listAnnouncements } from './announcements.service.ts';
import { upcomingWindows } from './rota.service.ts';
import { waitingCount } from './threads.service.ts';

/** Announcements older than this leave the home page (they stay on /announcements). */
const HOME_ANNOUNCEMENT_DAYS = 14;

/**
 * The home page block (a HomeSectionProvider, wired in app.ts): for a learner the latest
 * announcements and when a teacher is next on call; for a teacher how many questions wait.
 */
export async function oncallHomeSection(em: EntityManager, actor: Actor, now = new Date()) {
  if (actor.role === 'learner') {
    const since = new Date(now.getTime() - HOME_ANNOUNCEMENT_DAYS * 86_400_000);
    const cohorts = await cohortsOfLearner(em, actor.id);
    const [onCall] = await upcomingWindows(em, cohorts.map((c) => c.id), now, 1);
    return {
      partial: 'oncall/home-learner',
      model: { announcements: await listAnnouncements(em, actor, { since, limit: 3 }), onCall: onCall ?? null, hasCohorts: cohorts.length > 0 },
    };
  }
  if (actor.role === 'teacher') {
    return { partial: 'oncall/home-teacher', model: { waiting: await waitingCount(em, actor) } };
  }
  return null;
}
