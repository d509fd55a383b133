import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { randomInt } from 'node:crypto';
import { User } from '../accounts/index.ts';
import type { Actor } from '../platform/actor.ts';
import { Forbidden, InvalidInput, NotFound } from '../platform/errors.ts';
import { Cohort, Enrolment, Programme, Site } from './programme.entity.ts';
import { cohortsManagedBy, cohortsVisibleTo, programmesManagedBy, programmesVisibleTo } from './programmes.policy.ts';

export async function listProgrammes(em: EntityManager, actor: Actor) {
  const programmes = await em.find(Programme, programmesVisibleTo(actor), { orderBy: { name: 'asc' } });
  const ids = programmes.map((p) => p.id);
  const counts = ids.length
    ? ((await em.execute(
        `SELECT c.programme_id, count(DISTINCT c.id) AS cohorts, count(e.id) FILTER (WHERE e.status = 'active') AS learners
         FROM cohorts c LEFT JOIN enrolments e ON e.cohort_id = c.id WHERE c.programme_id IN (${ids.map(() => '?').join(',')})
         GROUP BY c.programme_id`,
        ids,
      )) as { programme_id: number; cohorts: string; learners: string }[])
    : [];
  const byId = new Map(counts.map((c) => [c.programme_id, c]));
  return programmes.map((p) => ({ id: p.id, name: p.name, cohorts: Number(byId.get(p.id)?.cohorts ?? 0), learners: Number(byId.get(p.id)?.learners ?? 0) }));
}

export async function createProgramme(em: EntityManager, actor: Actor, input: { name: string; description?: string }) {
  const programme = em.create(Programme, { name: input.name, description: input.description ?? null });
  if (actor.role === 'coordinator') programme.coordinators.add(em.getReference(User, actor.id));
  await flushOrFieldError(em, 'name', 'programmes:errors.nameTaken');
  return programme;
}

export async function getProgramme(em: EntityManager, actor: Actor, id: number) {
  const programme = await em.findOne(Programme, { $and: [{ id }, programmesVisibleTo(actor)] }, { populate: ['coordinators', 'sites', 'cohorts', 'cohorts.site'] });
  if (!programme) throw new NotFound();
  return programme;
}

async function managedProgramme(em: EntityManager, actor: Actor, id: number) {
  const programme = await em.findOne(Programme, { $and: [{ id }, programmesManagedBy(actor)] });
  if (!programme) throw new NotFound();
  return programme;
}

export async function addSite(em: EntityManager, actor: Actor, programmeId: number, name: string) {
  const programme = await managedProgramme(em, actor, programmeId);
  const site = em.create(Site, { programme, name });
  await flushOrFieldError(em, 'name', 'programmes:errors.siteTaken');
  return site;
}

export async function addCohort(em: EntityManager, actor: Actor, programmeId: number, input: { name: string; siteId?: number }) {
  const programme = await managedProgramme(em, actor, programmeId);
  let site: Site | null = null;
  if (input.siteId) {
    site = await em.findOne(Site, { id: input.siteId, programme });
    if (!site) throw new InvalidInput({ siteId: { key: 'validation:choose' } });
  }
  const cohort = em.create(Cohort, { programme, site, name: input.name, enrolmentCode: newEnrolmentCode() });
  await flushOrFieldError(em, 'name', 'programmes:errors.cohortTaken');
  return cohort;
}

export async function addCoordinator(em: EntityManager, programmeId: number, username: string) {
  const programme = await em.findOneOrFail(Programme, programmeId, { populate: ['coordinators'] });
  const user = await em.findOne(User, { username, role: { $in: ['coordinator', 'admin'] }, active: true });
  if (!user) throw new InvalidInput({ username: { key: 'programmes:errors.noSuchCoordinator' } });
  programme.coordinators.add(user);
  await em.flush();
}

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export function newEnrolmentCode(): string {
  let code = '';
  for (let i = 0; i < 6; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

export async function getCohort(em: EntityManager, actor: Actor, id: number) {
  const cohort = await em.findOne(Cohort, { $and: [{ id }, cohortsVisibleTo(actor)] }, { populate: ['programme', 'site', 'teachers'] });
  if (!cohort) throw new NotFound();
  return cohort;
}

export async function getManagedCohort(em: EntityManager, actor: Actor, id: number) {
  const cohort = await em.findOne(Cohort, { $and: [{ id }, cohortsManagedBy(actor)] }, { populate: ['programme', 'teachers'] });
  if (!cohort) throw new NotFound();
  return cohort;
}

export async function cohortLearners(em: EntityManager, cohort: Cohort) {
  return em.find(Enrolment, { cohort }, { populate: ['learner'], orderBy: { learner: { displayName: 'asc' } } });
}

export async function assignTeacher(em: EntityManager, actor: Actor, cohortId: number, username: string) {
  const cohort = await getManagedCohort(em, actor, cohortId);
  const teacher = await em.findOne(User, { username, role: 'teacher', active: true });
  if (!teacher) throw new InvalidInput({ username: { key: 'programmes:errors.noSuchTeacher' } });
  cohort.teachers.add(teacher);
  await em.flush();
}

export async function removeTeacher(em: EntityManager, actor: Actor, cohortId: number, teacherId: number) {
  const cohort = await getManagedCohort(em, actor, cohortId);
  cohort.teachers.remove(em.getReference(User, teacherId));
  await em.flush();
}

/** Enrols (or re-activates) a learner; enrolling twice is harmless. */
export async function enrol(em: EntityManager, cohort: Cohort, learner: User) {
  await em.execute(
    `INSERT INTO enrolments (cohort_id, learner_id, status, enrolled_at) VALUES (?, ?, 'active', now())
     ON CONFLICT (cohort_id, learner_id) DO UPDATE SET status = 'active', withdrawn_at = NULL`,
    [cohort.id, learner.id],
  );
}

export async function enrolByUsername(em: EntityManager, actor: Actor, cohortId: number, username: string) {
  const cohort = await getManagedCohort(em, actor, cohortId);
  const learner = await em.findOne(User, { username, role: 'learner' });
  if (!learner) throw new InvalidInput({ username: { key: 'programmes:errors.noSuchLearner' } });
  await enrol(em, cohort, learner);
}

export async function withdraw(em: EntityManager, actor: Actor, cohortId: number, enrolmentId: number) {
  const cohort = await getManagedCohort(em, actor, cohortId);
  const enrolment = await em.findOne(Enrolment, { id: enrolmentId, cohort });
  if (!enrolment) throw new NotFound();
  enrolment.status = 'withdrawn';
  enrolment.withdrawnAt = new Date();
  await em.flush();
}

export async function joinWithCode(em: EntityManager, actor: Actor, code: string) {
  if (actor.role !== 'learner') throw new Forbidden();
  const cohort = await em.findOne(Cohort, { enrolmentCode: code }, { populate: ['programme'] });
  if (!cohort) throw new InvalidInput({ code: { key: 'programmes:join.unknownCode' } });
  await enrol(em, cohort, em.getReference(User, actor.id));
  return cohort;
}

/** The learner's active cohorts, for their home page and other slices. */
export async function cohortsOfLearner(em: EntityManager, learnerId: number) {
  return em.find(Cohort, { enrolments: { learner: learnerId, status: 'active' } }, { populate: ['programme'], orderBy: { name: 'asc' } });
}

export async function cohortsOfTeacher(em: EntityManager, teacherId: number) {
  return em.find(Cohort, { teachers: teacherId }, { populate: ['programme'], orderBy: { name: 'asc' } });
}

/** Users an actor reaches through their programmes: used by accounts to filter who they manage. */
export async function usersInProgrammesOf(em: EntityManager, actor: Actor): Promise<FilterQuery<User>> {
  if (actor.role === 'admin') return {};
  if (actor.role !== 'coordinator') return { id: -1 };
  const rows = (await em.execute(
    `SELECT e.learner_id AS id FROM enrolments e JOIN cohorts c ON c.id = e.cohort_id
       JOIN programme_coordinators pc ON pc.programme_id = c.programme_id WHERE pc.user_id = ?
     UNION SELECT ct.user_id FROM cohort_teachers ct JOIN cohorts c ON c.id = ct.cohort_id
       JOIN programme_coordinators pc ON pc.programme_id = c.programme_id WHERE pc.user_id = ?`,
    [actor.id, actor.id],
  )) as { id: number }[];
  return { id: { $in: rows.map((r) => r.id) } };
}

async function flushOrFieldError(em: EntityManager, field: string, key: string) {
  try {
    await em.flush();
  } catch (err) {
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
    em.clear();
    throw new InvalidInput({ [field]: { key } });
  }
}
