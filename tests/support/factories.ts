/** Records for tests, made through the same entities the app uses. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import { User, hashPassword, type Role } from '../../src/accounts/index.ts';
import { Cohort, Programme, enrol, newEnrolmentCode } from '../../src/programmes/index.ts';
import { CohortCourse, Course, Lesson, Unit } from '../../src/courses/index.ts';
import { Message, Thread } from '../../src/oncall/index.ts';

export const PASSWORD = 'correct-horse-1';
let passwordHash: string | undefined;

const unique = () => randomBytes(3).toString('hex');

export async function makeUser(em: EntityManager, role: Role, over: Partial<Pick<User, 'username' | 'displayName' | 'phone' | 'language' | 'timeZone' | 'mustChangePassword' | 'active' | 'sex' | 'birthYear' | 'nationality' | 'legalStatus' | 'disability'>> = {}) {
  passwordHash ??= await hashPassword(PASSWORD);
  const user = em.create(User, {
    username: over.username ?? `${role}-${unique()}`,
    displayName: over.displayName ?? `${role} ${unique()}`,
    role,
    passwordHash,
    mustChangePassword: false,
    ...over,
  });
  await em.flush();
  return user;
}

export async function makeProgramme(em: EntityManager, coordinators: User[] = [], name = `Programme ${unique()}`) {
  const programme = em.create(Programme, { name });
  for (const c of coordinators) programme.coordinators.add(c);
  await em.flush();
  return programme;
}

export async function makeCohort(em: EntityManager, programme: Programme, opts: { teachers?: User[]; learners?: User[]; name?: string } = {}) {
  const cohort = em.create(Cohort, { programme, name: opts.name ?? `Cohort ${unique()}`, enrolmentCode: newEnrolmentCode() });
  for (const t of opts.teachers ?? []) cohort.teachers.add(t);
  await em.flush();
  for (const l of opts.learners ?? []) await enrol(em, cohort, l);
  return cohort;
}

/**
 * A small school: programme A (coordinator A) with cohort A (teacher A, learners A1, A2), and
 * programme B (coordinator B) with cohort B (teacher B, learner B1). Used to prove that nobody
 * reaches across.
 */
export async function makeSchool(em: EntityManager) {
  const coordinatorA = await makeUser(em, 'coordinator');
  const coordinatorB = await makeUser(em, 'coordinator');
  const teacherA = await makeUser(em, 'teacher');
  const teacherB = await makeUser(em, 'teacher');
  const learnerA1 = await makeUser(em, 'learner');
  const learnerA2 = await makeUser(em, 'learner');
  const learnerB1 = await makeUser(em, 'learner');
  const admin = await makeUser(em, 'admin');
  const programmeA = await makeProgramme(em, [coordinatorA]);
  const programmeB = await makeProgramme(em, [coordinatorB]);
  const cohortA = await makeCohort(em, programmeA, { teachers: [teacherA], learners: [learnerA1, learnerA2] });
  const cohortB = await makeCohort(em, programmeB, { teachers: [teacherB], learners: [learnerB1] });
  return { coordinatorA, coordinatorB, teacherA, teacherB, learnerA1, learnerA2, learnerB1, admin, programmeA, programmeB, cohortA, cohortB };
}

/**
 * A course made directly in the database (the importer has its own tests): `lessons` per unit,
 * each a text lesson unless a type is given; a quiz lesson gets one single-choice question whose
 * right option is `a`.
 */
export async function makeCourse(em: EntityManager, opts: { title?: string; units?: { lessons: ('text' | 'audio' | 'video' | 'quiz')[] }[] } = {}) {
  const slug = `course-${unique()}`;
  const course = em.create(Course, {
    slug,
    title: opts.title ?? `Course ${slug}`,
    language: 'en',
    instructionLanguages: ['en'],
    level: 'A1',
    subject: 'language',
    summary: 'A course for tests.',
    studyHours: 2,
    license: 'CC BY-SA 4.0',
    image: null,
    sourceHash: unique(),
    importedAt: new Date(),
  });
  let position = 0;
  for (const [u, unitSpec] of (opts.units ?? [{ lessons: ['text', 'text', 'quiz'] }]).entries()) {
    const unit = em.create(Unit, { course, slug: `unit-${u + 1}`, title: `Unit ${u + 1}`, position: u });
    for (const type of unitSpec.lessons) {
      position++;
      em.create(Lesson, {
        course,
        unit,
        slug: `lesson-${position}`,
        title: `Lesson ${position}`,
        type,
        minutes: 10,
        position,
        bodyHtml: `<p>Body of lesson ${position}.</p>`,
        bodyHtmlDataSaver: `<p>Body of lesson ${position}.</p>`,
        media: [],
        quiz:
          type === 'quiz'
            ? { passScore: 60, questions: [{ id: 'q1', type: 'single', prompt: 'Pick a.', options: [{ id: 'a', text: 'A', correct: true }, { id: 'b', text: 'B', correct: false }], answers: [], explanation: 'A is right.' }] }
            : null,
      });
    }
  }
  await em.flush();
  return course;
}

export async function offerCourse(em: EntityManager, cohort: Cohort, course: { id: number }) {
  em.create(CohortCourse, { cohort, course: course.id, offeredBy: null });
  await em.flush();
}

/**
 * A question thread with fixed times, as if asked at `openedAt` about a lesson (default: one that
 * need not exist) and, when `answeredAt` is given, first answered then by `answeredBy`.
 */
export async function makeThread(
  em: EntityManager,
  opts: { cohort: Cohort; learner: User; openedAt?: Date; body?: string; answeredAt?: Date; answeredBy?: User; resolved?: boolean; context?: { kind: 'lesson' | 'assignment'; id: number; title: string; url: string } },
) {
  const openedAt = opts.openedAt ?? new Date();
  const context = opts.context ?? { kind: 'lesson' as const, id: 1, title: `Lesson ${unique()}`, url: '/lessons/1' };
  const body = opts.body ?? `A question ${unique()}`;
  const thread = em.create(Thread, {
    cohort: opts.cohort,
    learner: opts.learner,
    contextKind: context.kind,
    contextId: context.id,
    contextTitle: context.title,
    contextCourse: null,
    contextUrl: context.url,
    excerpt: body.slice(0, 160),
    status: opts.resolved ? 'resolved' : 'open',
    openedAt,
    waitingSince: opts.answeredAt || opts.resolved ? null : openedAt,
    firstAnsweredAt: opts.answeredAt ?? null,
    firstAnsweredBy: opts.answeredBy ?? null,
    lastMessageAt: opts.answeredAt ?? openedAt,
    resolvedAt: opts.resolved ? (opts.answeredAt ?? openedAt) : null,
    requestKey: `q-${unique()}`,
  });
  em.create(Message, { thread, author: opts.learner, body, createdAt: openedAt, requestKey: thread.requestKey });
  if (opts.answeredAt && opts.answeredBy) em.create(Message, { thread, author: opts.answeredBy, body: `An answer ${unique()}`, createdAt: opts.answeredAt, requestKey: `a-${unique()}` });
  await em.flush();
  return thread;
}
