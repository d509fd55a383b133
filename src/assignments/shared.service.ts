/** What other slices ask of assignments (wired in app.ts). */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../platform/actor.ts';
import { Forbidden } from '../platform/errors.ts';
import { cohortsOfLearner } from '../programmes/index.ts';
import { visibleAssignment } from './assignments.service.ts';

/** Per learner: how many assignments they handed in (any version) between two instants. */
export async function submissionsBy(em: EntityManager, learnerIds: number[], from: Date, to: Date): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (!learnerIds.length) return out;
  const rows = (await em.execute(
    `SELECT s.learner_id, count(DISTINCT s.id)::int AS n FROM submissions s JOIN submission_versions v ON v.submission_id = s.id
     WHERE s.learner_id IN (${learnerIds.map(() => '?').join(',')}) AND v.submitted_at >= ? AND v.submitted_at < ?
     GROUP BY s.learner_id`,
    [...learnerIds, from, to],
  )) as { learner_id: number; n: number }[];
  for (const r of rows) out.set(r.learner_id, r.n);
  return out;
}

/**
 * An assignment as a learner may ask a teacher about it: its title, course, page and the
 * learner's cohorts that have it. NotFound when the learner cannot see it.
 */
export async function assignmentForQuestion(em: EntityManager, actor: Actor, id: number) {
  if (actor.role !== 'learner') throw new Forbidden();
  const a = await visibleAssignment(em, actor, id);
  const theirs = new Set((await cohortsOfLearner(em, actor.id)).map((c) => c.id));
  return {
    kind: 'assignment' as const,
    id: a.id,
    title: a.title,
    courseTitle: a.unit ? a.unit.getEntity().course.getEntity().title : null,
    url: `/assignments/${a.id}`,
    cohortIds: a.cohorts.getItems().map((c) => c.id).filter((c) => theirs.has(c)),
  };
}
