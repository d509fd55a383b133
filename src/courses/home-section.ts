import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../platform/actor.ts';
import { classesToFollow, whereToContinue } from './study.service.ts';

/**
 * The home block (a HomeSectionProvider, wired in app.ts): for a learner one tap back to the
 * lesson they stopped at, or the next one after it; for a teacher the progress of each class in
 * each course it takes.
 */
export async function coursesHomeSection(em: EntityManager, actor: Actor) {
  if (actor.role === 'teacher') {
    const classes = await classesToFollow(em, actor);
    return classes.length ? { partial: 'courses/home-teacher', model: { classes } } : null;
  }
  const model = await whereToContinue(em, actor);
  return model ? { partial: 'courses/home', model } : null;
}
