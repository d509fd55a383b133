/**
 * The demo school's SCORM lesson: the small package in src/scorm/demo-package (an original SCORM
 * 1.2 practice on the Greek numbers 1 to 5), zipped at seed time and imported through the same
 * checks as any upload, into the numbers unit of the Greek A1 course.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deflateRawSync, crc32 } from 'node:zlib';
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

/** A zip of the folder's files (deflated, no sub-folders needed), as any authoring tool would write it. */
async function zipFolder(dir: string): Promise<Buffer> {
  const names = (await readdir(dir)).sort();
  const local: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const name of names) {
    const data = await readFile(path.join(dir, name));
    const packed = deflateRawSync(data, { level: 9 });
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data) >>> 0;
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(0x0800, 6); // names in UTF-8
    header.writeUInt16LE(8, 8); // deflate
    header.writeUInt32LE(0x00210000, 10); // 1980-01-01 00:00: the same bytes, the same content id, every time
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(packed.length, 18);
    header.writeUInt32LE(data.length, 22);
    header.writeUInt16LE(nameBytes.length, 26);
    local.push(header, nameBytes, packed);

    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(0x0314, 4); // made by Unix, so the mode below is read as one
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x0800, 8);
    entry.writeUInt16LE(8, 10);
    entry.writeUInt32LE(0x00210000, 12);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(packed.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt32LE((0o100644 << 16) >>> 0, 38); // a plain file
    entry.writeUInt32LE(offset, 42);
    central.push(entry, nameBytes);
    offset += header.length + nameBytes.length + packed.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(names.length, 8);
  end.writeUInt16LE(names.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...local, directory, end]);
}
