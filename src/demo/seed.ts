/**
 * Demo school: on first start against an empty database (unless DEMO=false) one programme with
 * two sites, cohorts and five accounts, all with the password `demo1234`.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { User, hashPassword } from '../accounts/index.ts';
import { seedDemoScheme } from '../allowances/index.ts';
import { Cohort, Programme, Site, enrol, newEnrolmentCode } from '../programmes/index.ts';
import { CohortCourse, Course } from '../courses/index.ts';

export const DEMO_PASSWORD = 'demo1234';
export const DEMO_COURSES = ['greek-a1', 'english-everyday', 'soft-skills-work'] as const;
export const DEMO_ACCOUNTS = [
  { username: 'learner1', role: 'learner', displayName: 'Amina Yusuf', language: null, phone: '+306912345671' },
  { username: 'learner2', role: 'learner', displayName: 'Reza Ahmadi', language: 'fa', phone: '+306912345672' },
  { username: 'teacher1', role: 'teacher', displayName: 'Eleni Papadopoulou', language: 'el', phone: null },
  { username: 'coordinator1', role: 'coordinator', displayName: 'Nikos Georgiou', language: null, phone: null },
  { username: 'admin', role: 'admin', displayName: 'Dars Administrator', language: null, phone: null },
] as const;

export async function isEmpty(em: EntityManager) {
  return (await em.count(User, {})) === 0;
}

export async function seedDemo(em: EntityManager) {
  await em.transactional(async (tx) => {
    const passwordHash = await hashPassword(DEMO_PASSWORD);
    const users = Object.fromEntries(
      DEMO_ACCOUNTS.map((a) => [a.username, tx.create(User, { ...a, passwordHash, timeZone: 'Europe/Athens', mustChangePassword: false })]),
    ) as Record<(typeof DEMO_ACCOUNTS)[number]['username'], User>;

    const helios = tx.create(Programme, { name: 'HELIOS Athens', description: 'Greek language and soft skills for beneficiaries of international protection.' });
    helios.coordinators.add(users.coordinator1);
    const athens = tx.create(Site, { programme: helios, name: 'Athens — Victoria Square' });
    const thessaloniki = tx.create(Site, { programme: helios, name: 'Thessaloniki' });
    const greek = tx.create(Cohort, { programme: helios, site: athens, name: 'Greek A1 — evening class', enrolmentCode: 'GREEK1' });
    greek.teachers.add(users.teacher1);
    const skills = tx.create(Cohort, { programme: helios, site: thessaloniki, name: 'Soft skills — weekend class', enrolmentCode: newEnrolmentCode() });

    // A second programme coordinator1 does not run: its records must stay out of their reach.
    const jakarta = tx.create(Programme, { name: 'On-Call Teacher Jakarta', description: 'Remote learning with teachers on call.' });
    jakarta.coordinators.add(users.admin);
    tx.create(Cohort, { programme: jakarta, name: 'English for everyday life — Jakarta', enrolmentCode: newEnrolmentCode() });
    await tx.flush();

    // The demo courses (imported just before, from courses/) are offered to the evening class.
    for (const course of await tx.find(Course, { slug: { $in: [...DEMO_COURSES] } })) {
      tx.create(CohortCourse, { cohort: greek, course, offeredBy: users.coordinator1 });
    }
    await tx.flush();

    await enrol(tx, greek, users.learner1);
    await enrol(tx, greek, users.learner2);
    await enrol(tx, skills, users.learner2);
    await seedDemoScheme(tx, users.coordinator1, helios);
  });
}
