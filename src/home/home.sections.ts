import { cohortsOfLearner, cohortsOfTeacher, listProgrammes } from '../programmes/index.ts';
import type { HomeSectionProvider } from './home.routes.ts';

export const learnerCohorts: HomeSectionProvider = async (em, actor) => {
  if (actor.role !== 'learner') return null;
  const cohorts = await cohortsOfLearner(em, actor.id);
  return { partial: 'home/learner-cohorts', model: { cohorts: cohorts.map((c) => ({ name: c.name, programme: c.programme.getEntity().name })) } };
};

export const teacherCohorts: HomeSectionProvider = async (em, actor) => {
  if (actor.role !== 'teacher') return null;
  const cohorts = await cohortsOfTeacher(em, actor.id);
  return { partial: 'home/teacher-cohorts', model: { cohorts: cohorts.map((c) => ({ id: c.id, name: c.name, programme: c.programme.getEntity().name })) } };
};

export const coordinatorProgrammes: HomeSectionProvider = async (em, actor) => {
  if (actor.role !== 'coordinator' && actor.role !== 'admin') return null;
  return { partial: 'home/programmes', model: { programmes: await listProgrammes(em, actor), admin: actor.role === 'admin' } };
};
