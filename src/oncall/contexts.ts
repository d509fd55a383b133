/**
 * What a question can be about, asked of the slices that own it: may this learner ask about it,
 * and how is it called and reached. Each kind answers NotFound/Forbidden like its own pages do.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { assignmentForQuestion } from '../assignments/index.ts';
import { coursesOfCohort, lessonForLearner } from '../courses/index.ts';
import type { Actor } from '../platform/actor.ts';
import { cohortsOfLearner } from '../programmes/index.ts';
import type { ContextKind } from './thread.entity.ts';
import type { ContextRecord } from './threads.service.ts';

export type ContextLookup = (em: EntityManager, actor: Actor, id: number) => Promise<ContextRecord>;

/** The learner's cohorts that offer the course: the teachers who can help with it. */
async function cohortsOffering(em: EntityManager, actor: Actor, courseId: number) {
  const cohorts = await cohortsOfLearner(em, actor.id);
  if (cohorts.length <= 1) return cohorts.map((c) => c.id);
  const ids: number[] = [];
  for (const c of cohorts) if ((await coursesOfCohort(em, c.id)).some((course) => course.id === courseId)) ids.push(c.id);
  return ids;
}

export const contextLookups: Record<ContextKind, ContextLookup> = {
  lesson: async (em, actor, id) => {
    const lesson = await lessonForLearner(em, actor, id);
    return { kind: 'lesson', id: lesson.id, title: lesson.title, courseTitle: lesson.courseTitle, url: lesson.url, cohortIds: await cohortsOffering(em, actor, lesson.courseId) };
  },
  assignment: assignmentForQuestion,
};
