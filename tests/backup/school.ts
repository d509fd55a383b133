/**
 * A school with records in every slice, made the way a school gets them: factories for the
 * people and classes, the shipped course folder for courses and their media, and the app's own
 * routes for what users do (profile saves, joining with a code, a learner import, a question
 * with a photo). Plus what a backup compares it by: per-table row counts and content checksums.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import { listStoredFiles, schoolTables } from '../../src/backup/index.ts';
import { COURSES_ROOT, Lesson, importCourses } from '../../src/courses/index.ts';
import { post, signIn } from '../support/agent.ts';
import type { TestApp } from '../support/app.ts';
import { makeCourse, makeSchool, offerCourse } from '../support/factories.ts';

export async function buildSchool(t: TestApp) {
  const em: EntityManager = t.em();
  const s = await makeSchool(em);
  const course = await makeCourse(em, { title: 'Greek A1 (tests)' });
  await offerCourse(em, s.cohortA, course);
  const imported = await importCourses(t.em(), COURSES_ROOT, { filesDir: path.join(t.config.dataDir, 'files'), only: ['greek-a1'] });
  if (imported[0]?.status !== 'created') throw new Error(`the shipped course did not import: ${JSON.stringify(imported[0]?.problems)}`);

  const learner = await signIn(t.app, s.learnerA1.username);
  const saved = await post(learner, '/profile', { displayName: 'Amina Y. (saved)', language: 'ar', timeZone: 'Europe/Athens', dataSaver: 'on', phone: '', sex: 'female', birthYear: '1999', nationality: 'SY', legalStatus: 'refugee', disability: 'no' });
  if (saved.status !== 303) throw new Error(`profile save answered ${saved.status}`);

  const joiner = await signIn(t.app, s.learnerA2.username);
  const joined = await post(joiner, '/join', { code: s.cohortB.enrolmentCode });
  if (joined.status !== 303) throw new Error(`join answered ${joined.status}`);

  const coordinator = await signIn(t.app, s.coordinatorA.username);
  const csv = 'username,display_name,phone,language,nationality\r\nomid.backup,Omid Rahimi,,fa,AF\r\nleila.backup,Leila Haidari,,fa,AF\r\n';
  const importedLearners = await coordinator.post(`/cohorts/${s.cohortA.id}/import?_csrf=${coordinator.csrf}`).attach('file', Buffer.from(csv), { filename: 'learners.csv', contentType: 'text/csv' });
  if (importedLearners.status !== 200) throw new Error(`learner import answered ${importedLearners.status}`);

  const lesson = await em.findOneOrFail(Lesson, { course: course.id, position: 1 });
  const photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a7' } }).png().toBuffer();
  const asked = await learner.post(`/ask/lesson/${lesson.id}?_csrf=${learner.csrf}`).field('requestId', randomUUID()).field('body', 'Is this the right letter? «Ω»').attach('attachment', photo, 'board.png');
  if (asked.status !== 303) throw new Error(`question answered ${asked.status}`);
  return s;
}

export interface TableFigures {
  rows: number;
  /** md5 over every row's text, in primary-key order. */
  checksum: string;
}

/** Row count and content checksum of every school table. */
export async function tableFigures(url: string): Promise<Record<string, TableFigures>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out: Record<string, TableFigures> = {};
    for (const table of await schoolTables(client)) {
      const name = pg.escapeIdentifier(table.name);
      const order = table.primaryKey.length ? table.primaryKey.map((c) => `t.${pg.escapeIdentifier(c)}`).join(', ') : 't::text';
      const { rows } = await client.query(`SELECT count(*)::int AS rows, coalesce(md5(string_agg(t::text, ',' ORDER BY ${order})), '') AS checksum FROM ${name} t`);
      out[table.name] = rows[0];
    }
    return out;
  } finally {
    await client.end();
  }
}

/** SHA-256 of every stored file under DATA_DIR (the same selection a backup makes). */
export async function storedFileHashes(dataDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of await listStoredFiles(dataDir)) out[rel] = createHash('sha256').update(readFileSync(path.join(dataDir, rel))).digest('hex');
  return out;
}
