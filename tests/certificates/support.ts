/** A school with a course offered to cohort A, a way to study it, and the app's own certificate issuer. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Assignment, Grade, Submission } from '../../src/assignments/index.ts';
import type { User } from '../../src/accounts/index.ts';
import { Lesson, Unit, completeLesson, recordQuizResult, type Course } from '../../src/courses/index.ts';
import { CertificateRule, certificateIssuer, releasedAssignmentPercents } from '../../src/certificates/index.ts';
import type { Cohort } from '../../src/programmes/index.ts';
import type { TestApp } from '../support/app.ts';
import { makeCourse, makeSchool, offerCourse } from '../support/factories.ts';

export async function arrange(t: TestApp, title = 'Greek A1: first steps') {
  const em = t.em();
  const school = await makeSchool(em);
  const course = await makeCourse(em, { title, units: [{ lessons: ['text', 'text'] }, { lessons: ['quiz'] }] });
  await offerCourse(em, school.cohortA, course);
  const lessons = await em.find(Lesson, { course }, { orderBy: { position: 'asc' } });
  return { ...school, course, lessons, em };
}

/** The same issuer the app under test uses: same key (DATA_DIR), same address. */
export function issuerOf(t: TestApp) {
  return certificateIssuer({ dataDir: t.config.dataDir, signingKey: t.config.CERT_SIGNING_KEY, publicUrl: t.config.APP_ORIGIN, assignmentPercents: releasedAssignmentPercents });
}

/** Does every given lesson, scoring `quizScore` on quizzes (passed at 60, as the factory's quizzes say). */
export async function study(em: EntityManager, learnerId: number, lessons: Lesson[], quizScore = 100) {
  for (const l of lessons) {
    const ref = { id: l.id, courseId: l.course.id };
    if (l.type === 'quiz') await recordQuizResult(em, learnerId, ref, quizScore, quizScore >= 60);
    else await completeLesson(em, learnerId, ref);
  }
}

/** Sets what a course asks for a certificate, as the coordinator's form would. */
export async function setRule(em: EntityManager, course: Course, rule: { minQuizScore?: number | null; minAssignmentScore?: number | null; edition?: number }) {
  const existing = await em.findOne(CertificateRule, { course: course.id });
  if (existing) Object.assign(existing, rule, { updatedAt: new Date() });
  else em.create(CertificateRule, { course: course.id, minQuizScore: rule.minQuizScore ?? null, minAssignmentScore: rule.minAssignmentScore ?? null, edition: rule.edition ?? 1, updatedBy: null, updatedAt: new Date() });
  await em.flush();
}

/** An assignment in the course's first unit, handed in by the learner and graded `score` of 20; released unless told otherwise. */
export async function gradedAssignment(em: EntityManager, opts: { course: Course; cohort: Cohort; teacher: User; learner: User; score: number; released?: boolean }) {
  const unit = await em.findOneOrFail(Unit, { course: opts.course.id }, { orderBy: { position: 'asc' } });
  const now = new Date();
  const assignment = em.create(Assignment, {
    title: 'Write about your town',
    instructions: 'Write five sentences.',
    instructionsHtml: '<p>Write five sentences.</p>',
    createdBy: opts.teacher,
    unit,
    opensAt: now,
    dueAt: now,
    cutoffAt: null,
    forms: ['text'],
    maxPoints: 20,
    rubric: null,
  });
  assignment.cohorts.add(opts.cohort);
  const submission = em.create(Submission, { assignment, learner: opts.learner, cohort: opts.cohort, status: 'submitted', submittedVersion: 1, lastSubmittedAt: now });
  em.create(Grade, { submission, versionNumber: 1, score: opts.score, rubricLevels: null, gradedBy: opts.teacher, gradedAt: now, releasedAt: opts.released === false ? null : now });
  await em.flush();
}
