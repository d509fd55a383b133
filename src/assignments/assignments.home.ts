/** What assignments add to home pages: a learner's work to do and new feedback; a teacher's queue. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../platform/actor.ts';
import { queueSizes } from './grading.service.ts';
import { unreadFeedback } from './notices.service.ts';
import { learnerOverview } from './submissions.service.ts';

/** Shaped like home's HomeSectionProvider (wired in app.ts), without importing the home slice. */
export async function assignmentsHomeSection(em: EntityManager, actor: Actor) {
  if (actor.role === 'learner') {
    const now = new Date();
    const overview = await learnerOverview(em, actor, now);
    const toDo = overview.filter((o) => o.window === 'open' && (!o.submission || o.submission.submittedVersion === 0 || o.submission.status === 'returned'));
    const next = toDo[0];
    return {
      partial: 'assignments/home-learner',
      model: {
        toDo: toDo.length,
        feedback: (await unreadFeedback(em, actor.id)).length,
        next: next ? { id: next.assignment.id, title: next.assignment.title, dueAt: next.deadlines.dueAt } : null,
      },
    };
  }
  if (actor.role === 'teacher') {
    const sizes = await queueSizes(em, actor);
    return { partial: 'assignments/home-teacher', model: { toGrade: sizes.toGrade, toRelease: sizes.toRelease } };
  }
  return null;
}
