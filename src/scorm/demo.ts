/**
 * The demo school's SCORM lesson: the small package in src/scorm/demo-package (an original SCORM
 * 1.2 practice on the Greek numbers 1 to 5), zipped at seed time and imported through the same
 * checks as any upload, into the numbers unit of the Greek A1 course.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { ZipFile } from 'yazl';
import { toActor, User } from '../accounts/index.ts';
import { Course, unitsOfCourse } from '../courses/index.ts';
import { projectRoot } from '../platform/database.ts';
import { importPackage, packagesDir } from './scorm.service.ts';

const DEMO_PACKAGE = path.join(projectRoot, 'src', 'scorm', 'demo-package');

/** Adds the lesson when the Greek course and the admin account are there; returns its lesson id, or null. */
export async function addDemoScormLesson(em: EntityManager, dataDir: string): Promise<number | null> {
  const course = await em.findOne(Course, { slug: 'greek-a1' });
  const admin = await em.findOne(User, { username: 'admin', role: 'admin' });
  if (!course || !admin) return null;
  const units = await unitsOfCourse(em, course.id);
  const unit = units.find((u) => u.slug === 'everyday-needs') ?? units.at(-1);
  if (!unit) return null;

  const zip = await zipFolder(DEMO_PACKAGE);
  const incoming = path.join(packagesDir(dataDir), '.incoming');
  await mkdir(incoming, { recursive: true, mode: 0o700 });
  const file = path.join(incoming, `${randomBytes(16).toString('hex')}.zip`);
  await writeFile(file, zip);
  try {
    const pkg = await importPackage(em, toActor(admin), { courseId: course.id, unitId: unit.id, file: { path: file, size: zip.length } }, { dataDir, maxZipBytes: zip.length });
    return pkg.lesson.id;
  } finally {
    await rm(file, { force: true });
  }
}

/**
 * A zip of the folder's files (deflated, no sub-folders needed), as any authoring tool would write
 * it. Every entry dated 1 January 1980: the same files make the same bytes, so the same content id,
 * on every machine and every day.
 */
const FIXED_TIME = new Date(1980, 0, 1);
async function zipFolder(dir: string): Promise<Buffer> {
  const zip = new ZipFile();
  for (const name of (await readdir(dir)).sort()) zip.addBuffer(await readFile(path.join(dir, name)), name, { mode: 0o100644, mtime: FIXED_TIME });
  zip.end();
  return buffer(zip.outputStream);
}
