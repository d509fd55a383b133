/** Announcements: a teacher writes once to every active learner of one of their cohorts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/index.ts';
import type { Actor } from '../platform/actor.ts';
import { Forbidden, InvalidInput } from '../platform/errors.ts';
import { Cohort, Enrolment, cohortsOfTeacher } from '../programmes/index.ts';
import { Announcement } from './announcement.entity.ts';
import type { Notify } from './notices.ts';
import { announcementsVisibleTo } from './oncall.policy.ts';

export async function postAnnouncement(em: EntityManager, actor: Actor, input: { cohortId: number; body: string }, deps: { notify: Notify; now?: () => Date }) {
  if (actor.role !== 'teacher') throw new Forbidden();
  const mine = await cohortsOfTeacher(em, actor.id);
  if (!mine.some((c) => c.id === input.cohortId)) throw new InvalidInput({ cohortId: { key: 'validation:choose' } });
  const now = deps.now?.() ?? new Date();
  return em.transactional(async (tx) => {
    const announcement = tx.create(Announcement, {
      cohort: tx.getReference(Cohort, input.cohortId),
      author: tx.getReference(User, actor.id),
      body: input.body,
      createdAt: now,
    });
    await tx.flush();
    const learners = await tx.find(Enrolment, { cohort: input.cohortId, status: 'active' }, { fields: ['learner'] });
    await deps.notify(tx, { kind: 'announcement', recipients: learners.map((e) => e.learner.id), actorId: actor.id, announcementId: announcement.id, at: now });
    return announcement;
  });
}

export interface AnnouncementView {
  id: number;
  cohort: string;
  author: string;
  body: string;
  createdAt: Date;
}

/** Announcements the actor may read (learners: their active cohorts'; teachers: their cohorts'), newest first. */
export async function listAnnouncements(em: EntityManager, actor: Actor, opts: { since?: Date; limit?: number } = {}): Promise<AnnouncementView[]> {
  const where = opts.since ? { $and: [announcementsVisibleTo(actor), { createdAt: { $gte: opts.since } }] } : announcementsVisibleTo(actor);
  const list = await em.find(Announcement, where, { populate: ['cohort', 'author'], orderBy: { createdAt: 'desc', id: 'desc' }, limit: opts.limit ?? 50 });
  return list.map((a) => ({ id: a.id, cohort: a.cohort.getEntity().name, author: a.author.getEntity().displayName, body: a.body, createdAt: a.createdAt }));
}
