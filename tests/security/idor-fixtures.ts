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
  // these name one that does not exist. tests/scorm/access.test.ts tries real ones across programmes.
  { route: 'GET /scorm/lessons/:lessonId', params: () => ({ lessonId: 2_000_000_001 }) },
  { route: 'GET /scorm/lessons/:lessonId/report', params: () => ({ lessonId: 2_000_000_001 }) },
  { route: 'GET /scorm/lessons/:lessonId/learners/:learnerId', params: (w) => ({ lessonId: 2_000_000_001, learnerId: w.learnerB1.id }) },
];
