/** A school with a course offered to cohort A, a way to study it, and the app's own certificate issuer. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Lesson, completeLesson, recordQuizResult } from '../../src/courses/index.ts';
import { certificateIssuer, releasedAssignmentPercents } from '../../src/certificates/index.ts';
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
