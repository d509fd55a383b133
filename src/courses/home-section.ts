import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../platform/actor.ts';
import { whereToContinue } from './study.service.ts';

/**
 * The learner's home block (a HomeSectionProvider, wired in app.ts): one tap back to the lesson
 * they stopped at, or the next one after it.
 */
export async function coursesHomeSection(em: EntityManager, actor: Actor) {
  const model = await whereToContinue(em, actor);
  return model ? { partial: 'courses/home', model } : null;
}
