/**
 * Assignment results as certificate rules count them: each released grade of the learner on an
 * assignment set as part of the course (through one of its units), as a percent of its points.
 * Drafted grades do not count until the teacher releases them.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Grade } from '../assignments/index.ts';
import type { AssignmentPercents } from './eligibility.ts';

export const releasedAssignmentPercents: AssignmentPercents = async (em: EntityManager, learnerId: number, courseId: number) => {
  const grades = await em.find(
    Grade,
    { releasedAt: { $ne: null }, submission: { learner: learnerId, assignment: { unit: { course: courseId } } } },
    { populate: ['submission.assignment'] },
  );
  return grades.map((g) => {
    const max = g.submission.getEntity().assignment.getEntity().maxPoints;
    return Math.min(100, Math.round((100 * g.score) / max));
  });
};
