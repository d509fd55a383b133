/**
 * Feedback notices: when a grade is released (or work is returned), the learner finds a notice in
 * Dars — a count on their home page and a mark beside the assignment — until they open it.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { FeedbackNotice } from './assignment.entity.ts';

/** Written in the transaction that released the grade. A learner has at most one unread notice per assignment. */
export async function noticeFeedback(em: EntityManager, learnerIds: number[], assignmentId: number, at: Date) {
  const unique = [...new Set(learnerIds)];
  if (!unique.length) return;
  await em.execute(
    `INSERT INTO feedback_notices (learner_id, assignment_id, created_at) VALUES ${unique.map(() => '(?, ?, ?)').join(', ')}
     ON CONFLICT (learner_id, assignment_id) WHERE read_at IS NULL DO UPDATE SET created_at = excluded.created_at`,
    unique.flatMap((id) => [id, assignmentId, at]),
  );
}

export async function unreadFeedback(em: EntityManager, learnerId: number): Promise<number[]> {
  const rows = await em.find(FeedbackNotice, { learner: learnerId, readAt: null }, { fields: ['assignment'] });
  return rows.map((n) => n.assignment.id);
}

export async function markFeedbackSeen(em: EntityManager, learnerId: number, assignmentId: number, at = new Date()) {
  await em.nativeUpdate(FeedbackNotice, { learner: learnerId, assignment: assignmentId, readAt: null }, { readAt: at });
}
