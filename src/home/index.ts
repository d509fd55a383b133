/**
 * home — the first page after signing in, different for each role: a learner's next lesson,
 * a teacher's cohorts and waiting work, a coordinator's programmes. Other slices add *sections*.
 */
export { homeRoutes, type HomeSection, type HomeSectionProvider } from './home.routes.ts';
export { learnerCohorts, teacherCohorts, coordinatorProgrammes } from './home.sections.ts';
