/** What each course asks for a certificate, set by the coordinators of programmes that offer it. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Course } from '../courses/index.ts';
import type { Actor } from '../platform/actor.ts';
import { NotFound } from '../platform/errors.ts';
import { CertificateRule } from './certificate.entity.ts';
import { courseRulesManagedBy } from './certificates.policy.ts';
import { DEFAULT_REQUIREMENTS, type CertificateRequirements } from './eligibility.ts';

export interface CourseRule extends CertificateRequirements {
  courseId: number;
  courseTitle: string;
}

export async function courseRules(em: EntityManager, actor: Actor): Promise<CourseRule[]> {
  const courses = await em.find(Course, courseRulesManagedBy(actor), { orderBy: { title: 'asc' } });
  const rules = new Map((await em.find(CertificateRule, { course: { $in: courses.map((c) => c.id) } })).map((r) => [r.course.id, r]));
  return courses.map((c) => {
    const r = rules.get(c.id);
    return {
      courseId: c.id,
      courseTitle: c.title,
      minQuizScore: r?.minQuizScore ?? DEFAULT_REQUIREMENTS.minQuizScore,
      minAssignmentScore: r?.minAssignmentScore ?? DEFAULT_REQUIREMENTS.minAssignmentScore,
      edition: r?.edition ?? DEFAULT_REQUIREMENTS.edition,
    };
  });
}

export async function courseRule(em: EntityManager, actor: Actor, courseId: number): Promise<CourseRule> {
  const rule = (await courseRules(em, actor)).find((r) => r.courseId === courseId);
  if (!rule) throw new NotFound();
  return rule;
}

export interface RuleInput {
  minQuizScore?: number;
  minAssignmentScore?: number;
  newEdition: boolean;
  /** The edition the form showed: a new edition follows it, so a doubled request starts only one. */
  edition: number;
}

/** Saves a course's rule. */
export async function saveRule(em: EntityManager, actor: Actor, courseId: number, input: RuleInput, now = new Date()) {
  await courseRule(em, actor, courseId);
  await em.execute(
    `INSERT INTO certificate_rules (course_id, min_quiz_score, min_assignment_score, edition, updated_by_id, updated_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (course_id) DO UPDATE SET min_quiz_score = excluded.min_quiz_score, min_assignment_score = excluded.min_assignment_score,
       edition = CASE WHEN certificate_rules.edition = ? THEN excluded.edition ELSE certificate_rules.edition END,
       updated_by_id = excluded.updated_by_id, updated_at = excluded.updated_at`,
    [courseId, input.minQuizScore ?? null, input.minAssignmentScore ?? null, input.newEdition ? input.edition + 1 : input.edition, actor.id, now, input.edition],
  );
}
