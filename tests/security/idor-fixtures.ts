/**
 * For every route with a parameter: how to name a record the attackers must not reach.
 *
 * The world (tests/support/factories.ts makeSchool) has programme A — coordinatorA, cohortA with
 * teacherA and learners A1, A2 — and programme B — coordinatorB, cohortB with teacherB and
 * learner B1. The attackers are learnerA1, teacherA and coordinatorA (and, for records owned by
 * one learner, learnerA2's records are tried by learnerA1 too). Each fixture returns the route's
 * parameters for a record in programme B, or belonging to someone else.
 *
 * A new route with a parameter and no entry here makes tests/security/idor.test.ts fail with the
 * route's name: add its entry, so nobody has to remember to test it.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { makeSchool } from '../support/factories.ts';
import { Enrolment } from '../../src/programmes/index.ts';

export type World = Awaited<ReturnType<typeof makeSchool>>;
export type Attacker = 'learnerA1' | 'teacherA' | 'coordinatorA';

export interface IdorFixture {
  /** "METHOD /path/:param" exactly as the router declares it. */
  route: string;
  /** Parameters naming a record the attackers must not reach. */
  params?: (w: World, em: EntityManager) => Promise<Record<string, string | number>> | Record<string, string | number>;
  /** Who tries; all three attackers when absent. */
  attackers?: Attacker[];
  /** A route whose parameter names no private record (public by design), with the reason. */
  publicBecause?: string;
}

export const idorFixtures: IdorFixture[] = [
  { route: 'GET /assets/:file', publicBecause: 'fingerprinted static files' },
  { route: 'GET /users/:id', params: (w) => ({ id: w.learnerB1.id }) },
  { route: 'POST /users/:id/reset-password', params: (w) => ({ id: w.learnerB1.id }) },
  { route: 'POST /users/:id/active', params: (w) => ({ id: w.learnerB1.id }) },
  { route: 'POST /users/:id/role', params: (w) => ({ id: w.teacherB.id }) },
  { route: 'GET /programmes/:id', params: (w) => ({ id: w.programmeB.id }) },
  { route: 'POST /programmes/:id/sites', params: (w) => ({ id: w.programmeB.id }) },
  { route: 'POST /programmes/:id/cohorts', params: (w) => ({ id: w.programmeB.id }) },
  { route: 'POST /programmes/:id/coordinators', params: (w) => ({ id: w.programmeB.id }) },
  { route: 'GET /cohorts/:id', params: (w) => ({ id: w.cohortB.id }) },
  { route: 'POST /cohorts/:id/teachers', params: (w) => ({ id: w.cohortB.id }) },
  { route: 'POST /cohorts/:id/teachers/:teacherId/remove', params: (w) => ({ id: w.cohortB.id, teacherId: w.teacherB.id }) },
  { route: 'POST /cohorts/:id/enrolments', params: (w) => ({ id: w.cohortB.id }) },
  {
    route: 'POST /cohorts/:id/enrolments/:enrolmentId/withdraw',
    params: async (w, em) => ({ id: w.cohortB.id, enrolmentId: ((await em.findOneOrFail(Enrolment, { cohort: w.cohortB.id })) as { id: number }).id }),
  },
  { route: 'GET /cohorts/:id/import', params: (w) => ({ id: w.cohortB.id }) },
  { route: 'POST /cohorts/:id/import', params: (w) => ({ id: w.cohortB.id }) },
  // The matrix world holds no SCORM lesson, and a fixture may not add rows (the test counts them):
  // these name one that does not exist. tests/scorm/teacher.test.ts tries real ones across programmes.
  { route: 'GET /scorm/lessons/:lessonId', params: () => ({ lessonId: 2_000_000_001 }) },
  { route: 'GET /scorm/lessons/:lessonId/report', params: () => ({ lessonId: 2_000_000_001 }) },
  { route: 'GET /scorm/lessons/:lessonId/learners/:learnerId', params: (w) => ({ lessonId: 2_000_000_001, learnerId: w.learnerB1.id }) },
  // Assignments and on-call: the matrix world holds no assignment, submission, question or shift,
  // and a fixture may not add rows, so those name records that do not exist; cohort B's gradebook
  // and learner B1 are real. tests/assignments/policies.test.ts and tests/oncall/privacy.test.ts try
  // real records of another learner, class and programme.
  { route: 'POST /assignments/comments/:id/delete', params: () => ({ id: 2_000_000_011 }) },
  { route: 'GET /assignments/:id/edit', params: () => ({ id: 2_000_000_012 }) },
  { route: 'POST /assignments/:id', params: () => ({ id: 2_000_000_012 }) },
  { route: 'GET /assignments/:id', params: () => ({ id: 2_000_000_012 }) },
  { route: 'POST /assignments/:id/work', params: () => ({ id: 2_000_000_012 }) },
  { route: 'GET /assignments/files/:fileId', params: () => ({ fileId: 2_000_000_013 }) },
  { route: 'POST /assignments/:id/files/:fileId/remove', params: () => ({ id: 2_000_000_012, fileId: 2_000_000_013 }) },
  { route: 'POST /assignments/:id/extensions', params: () => ({ id: 2_000_000_012 }) },
  { route: 'POST /assignments/:id/extensions/:learnerId/remove', params: (w) => ({ id: 2_000_000_012, learnerId: w.learnerB1.id }) },
  { route: 'POST /assignments/:id/release', params: () => ({ id: 2_000_000_012 }) },
  { route: 'GET /submissions/:id', params: () => ({ id: 2_000_000_014 }) },
  { route: 'POST /submissions/:id/grade', params: () => ({ id: 2_000_000_014 }) },
  { route: 'POST /submissions/:id/release', params: () => ({ id: 2_000_000_014 }) },
  { route: 'POST /submissions/:id/return', params: () => ({ id: 2_000_000_014 }) },
  { route: 'GET /gradebook/:id', params: (w) => ({ id: w.cohortB.id }) },
  { route: 'GET /gradebook/:id/export.csv', params: (w) => ({ id: w.cohortB.id }) },
  { route: 'GET /ask/:kind/:id', params: () => ({ kind: 'lesson', id: 2_000_000_015 }) },
  { route: 'POST /ask/:kind/:id', params: () => ({ kind: 'assignment', id: 2_000_000_012 }) },
  { route: 'GET /questions/:id', params: () => ({ id: 2_000_000_016 }) },
  { route: 'POST /questions/:id/messages', params: () => ({ id: 2_000_000_016 }) },
  { route: 'POST /questions/:id/resolve', params: () => ({ id: 2_000_000_016 }) },
  { route: 'GET /questions/:id/files/:fileId', params: () => ({ id: 2_000_000_016, fileId: 2_000_000_017 }) },
  { route: 'POST /rota/:id/remove', params: () => ({ id: 2_000_000_018 }) },
  // Courses: the matrix world holds no course, and a fixture may not add rows, so these name a
  // course, lesson and quiz attempt that do not exist; cohort B is real. tests/courses/pages.test.ts
  // tries real ones across classes and programmes.
  { route: 'GET /courses/:id', params: () => ({ id: 2_000_000_021 }) },
  { route: 'POST /courses/:id/offers', params: (w) => ({ id: 2_000_000_021, cohortId: w.cohortB.id }) },
  { route: 'POST /courses/:id/offers/:cohortId/withdraw', params: (w) => ({ id: 2_000_000_021, cohortId: w.cohortB.id }) },
  { route: 'GET /lessons/:id', params: () => ({ id: 2_000_000_022 }) },
  { route: 'POST /lessons/:id/done', params: () => ({ id: 2_000_000_022 }) },
  { route: 'POST /lessons/:id/quiz', params: () => ({ id: 2_000_000_022 }) },
  { route: 'GET /lessons/:id/attempts/:attemptId', params: () => ({ id: 2_000_000_022, attemptId: 2_000_000_023 }) },
  { route: 'GET /cohorts/:id/courses/:courseId/progress', params: (w) => ({ id: w.cohortB.id, courseId: 2_000_000_021 }) },
  { route: 'GET /media/:file', publicBecause: 'course media, named by the hash of its bytes and the same for every learner of the course' },
  // Certificates: the matrix world holds none and no course, and a fixture may not add rows, so these
  // name a code and a course that do not exist. tests/certificates/learner.test.ts and verify.test.ts
  // try a real certificate as another learner, a teacher and another programme's coordinator.
  { route: 'GET /certificates/rules/:courseId', params: () => ({ courseId: 2_000_000_031 }) },
  { route: 'POST /certificates/rules/:courseId', params: () => ({ courseId: 2_000_000_031 }) },
  { route: 'GET /certificates/:code', params: () => ({ code: '7KQ2-M9XD-4TWA' }) },
  { route: 'POST /certificates/:code/settings', params: () => ({ code: '7KQ2-M9XD-4TWA' }) },
  { route: 'POST /certificates/:code/revoke', params: () => ({ code: '7KQ2-M9XD-4TWA' }) },
  { route: 'GET /certificates/:code/pdf', params: () => ({ code: '7KQ2-M9XD-4TWA' }) },
  { route: 'GET /certificates/:code/credential.json', params: () => ({ code: '7KQ2-M9XD-4TWA' }) },
  { route: 'GET /verify/:code', publicBecause: 'the public verification page: shows only what a certificate certifies, rate-limited per address' },
  // Allowances: programme B's own pages by its real id; the matrix world holds no scheme, batch or
  // hand-off, and a fixture may not add rows, so those name ids that do not exist.
  // tests/allowances/access.test.ts tries real schemes and batches across programmes.
  { route: 'GET /allowances/programmes/:id/schemes/new', params: (w) => ({ id: w.programmeB.id }) },
  { route: 'POST /allowances/programmes/:id/schemes', params: (w) => ({ id: w.programmeB.id }) },
  { route: 'GET /allowances/programmes/:id/learners/:learnerId', params: (w) => ({ id: w.programmeB.id, learnerId: w.learnerB1.id }) },
  { route: 'GET /allowances/programmes/:id/usage', params: (w) => ({ id: w.programmeB.id }) },
  { route: 'GET /allowances/schemes/:id', params: () => ({ id: 2_000_000_041 }) },
  { route: 'GET /allowances/schemes/:id/change', params: () => ({ id: 2_000_000_041 }) },
  { route: 'POST /allowances/schemes/:id/versions', params: () => ({ id: 2_000_000_041 }) },
  { route: 'GET /allowances/schemes/:id/periods/:start', params: () => ({ id: 2_000_000_041, start: '2026-11-01' }) },
  { route: 'POST /allowances/schemes/:id/periods/:start/issue', params: () => ({ id: 2_000_000_041, start: '2026-11-01' }) },
  { route: 'GET /allowances/batches/:id', params: () => ({ id: 2_000_000_042 }) },
  { route: 'POST /allowances/batches/:id/send', params: () => ({ id: 2_000_000_042 }) },
  { route: 'GET /allowances/batches/:id/handoffs/:handoff', params: () => ({ id: 2_000_000_042, handoff: 2_000_000_043 }) },
  { route: 'POST /allowances/batches/:id/confirmations', params: () => ({ id: 2_000_000_042 }) },
  { route: 'POST /allowances/batches/:id/issues/:issueId/resend', params: () => ({ id: 2_000_000_042, issueId: 2_000_000_044 }) },
  { route: 'POST /allowances/batches/:id/issues/:issueId/cancel', params: () => ({ id: 2_000_000_042, issueId: 2_000_000_044 }) },
];
