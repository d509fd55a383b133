/**
 * programmes — who studies where, with whom.
 *
 * Words: a *programme* (HELIOS Athens) runs at *sites* and groups learners into *cohorts*
 * (classes); *coordinators* run a programme; *teachers* are assigned to cohorts; an *enrolment*
 * puts a learner in a cohort (active, withdrawn, completed); the *enrolment code* lets a learner
 * join a cohort by themselves.
 */
export { Programme, Site, Cohort, Enrolment, ProgrammeSchema, SiteSchema, CohortSchema, EnrolmentSchema } from './programme.entity.ts';
export { programmesRoutes } from './programmes.routes.ts';
export {
  usersInProgrammesOf,
  cohortsOfLearner,
  cohortsOfTeacher,
  listProgrammes,
  enrol,
  newEnrolmentCode,
  getCohort,
} from './programmes.service.ts';
export { cohortsVisibleTo, learnerCohortIdsSql, cohortsManagedBy, programmesVisibleTo, enrolmentsVisibleTo, programmeCapabilities } from './programmes.policy.ts';
export { importLearners, CSV_COLUMNS, type ImportReport } from './learner-import.ts';
