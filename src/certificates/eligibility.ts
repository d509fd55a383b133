/**
 * When a course is complete for a certificate: every current lesson done and, where the course's
 * rule sets them, a high enough quiz average and assignment average. The answer also says what is
 * missing, so a learner can be told what is left.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Lesson, LessonProgress, quizScoresFor } from '../courses/index.ts';
import { CertificateRule } from './certificate.entity.ts';

/**
 * Where assignment results come from: the percent (0–100) of each released assignment grade the
 * learner has in the course. Supplied by app.ts, so this slice does not reach into assignments.
 */
export type AssignmentPercents = (em: EntityManager, learnerId: number, courseId: number) => Promise<number[]>;

export interface CertificateRequirements {
  minQuizScore: number | null;
  minAssignmentScore: number | null;
  edition: number;
}

export interface Eligibility {
  eligible: boolean;
  lessonsTotal: number;
  lessonsDone: number;
  /** Rounded average percent; null when the course has no quiz (or nothing was graded yet). */
  quizAverage: number | null;
  minQuizScore: number | null;
  assignmentAverage: number | null;
  minAssignmentScore: number | null;
}

export const DEFAULT_REQUIREMENTS: CertificateRequirements = { minQuizScore: null, minAssignmentScore: null, edition: 1 };

export async function requirementsFor(em: EntityManager, courseId: number): Promise<CertificateRequirements> {
  const rule = await em.findOne(CertificateRule, { course: courseId });
  return rule ? { minQuizScore: rule.minQuizScore ?? null, minAssignmentScore: rule.minAssignmentScore ?? null, edition: rule.edition } : DEFAULT_REQUIREMENTS;
}

const average = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : null);

export async function eligibility(
  em: EntityManager,
  learnerId: number,
  courseId: number,
  requirements: CertificateRequirements,
  assignmentPercents: AssignmentPercents,
): Promise<Eligibility> {
  const lessons = await em.find(Lesson, { course: courseId, retired: false }, { fields: ['id', 'type'] });
  const lessonsDone = lessons.length
    ? await em.count(LessonProgress, { learner: learnerId, lesson: { $in: lessons.map((l) => l.id) }, completedAt: { $ne: null } })
    : 0;

  // Every quiz of the course counts; one never attempted counts as 0 (a course that asks for a
  // quiz average cannot be passed by skipping the hard quiz).
  const quizIds = lessons.filter((l) => l.type === 'quiz').map((l) => l.id);
  const best = new Map((await quizScoresFor(em, [learnerId], [courseId])).map((s) => [s.lessonId, s.bestScore]));
  const quizAverage = average(quizIds.map((id) => best.get(id) ?? 0));

  const assignmentAverage = requirements.minAssignmentScore !== null ? average(await assignmentPercents(em, learnerId, courseId)) : null;

  const lessonsOk = lessons.length > 0 && lessonsDone === lessons.length;
  const quizOk = requirements.minQuizScore === null || quizAverage === null || quizAverage >= requirements.minQuizScore;
  // A minimum assignment score with no graded assignment is not met: the grade is still to come.
  const assignmentsOk = requirements.minAssignmentScore === null || (assignmentAverage !== null && assignmentAverage >= requirements.minAssignmentScore);
  return {
    eligible: lessonsOk && quizOk && assignmentsOk,
    lessonsTotal: lessons.length,
    lessonsDone,
    quizAverage,
    minQuizScore: requirements.minQuizScore,
    assignmentAverage,
    minAssignmentScore: requirements.minAssignmentScore,
  };
}
