/** Records and fixtures for the assignments tests: assignments made through the entities, phone photos made with sharp. */
import type { EntityManager } from '@mikro-orm/postgresql';
import sharp from 'sharp';
import type { User } from '../../src/accounts/index.ts';
import { Assignment, type Rubric } from '../../src/assignments/index.ts';
import type { Cohort } from '../../src/programmes/index.ts';

const DAY = 86400_000;

export async function makeAssignment(
  em: EntityManager,
  teacher: User,
  cohorts: Cohort[],
  over: Partial<Pick<Assignment, 'title' | 'opensAt' | 'dueAt' | 'cutoffAt' | 'forms' | 'maxFiles' | 'maxFileMb' | 'maxPoints' | 'resubmissionAllowed'>> & { rubric?: Rubric | null } = {},
) {
  const now = Date.now();
  const rubric = over.rubric ?? null;
  const assignment = em.create(Assignment, {
    title: `Assignment ${Math.random().toString(36).slice(2, 8)}`,
    instructions: 'Write about your day.',
    instructionsHtml: '<p>Write about your day.</p>',
    createdBy: teacher,
    opensAt: new Date(now - DAY),
    dueAt: new Date(now + 3 * DAY),
    cutoffAt: null,
    forms: ['text', 'photo', 'pdf', 'audio'],
    maxFiles: 3,
    maxFileMb: 5,
    maxPoints: rubric ? rubric.criteria.reduce((s, c) => s + Math.max(...c.levels.map((l) => l.points)), 0) : 10,
    resubmissionAllowed: false,
    ...over,
    rubric,
  });
  for (const c of cohorts) assignment.cohorts.add(c);
  await em.flush();
  return assignment;
}

export const RUBRIC: Rubric = {
  criteria: [
    { id: 'c1', title: 'Content', levels: [{ id: 'l1', title: 'Thin', points: 1 }, { id: 'l2', title: 'Rich', points: 4 }] },
    { id: 'c2', title: 'Spelling', levels: [{ id: 'l1', title: 'Many mistakes', points: 0 }, { id: 'l2', title: 'Few mistakes', points: 3 }] },
  ],
};

/** A phone photo: large, with camera make and a GPS position in its EXIF. */
export async function phonePhoto(format: 'jpeg' | 'png' = 'jpeg', width = 3000, height = 2000) {
  return sharp({ create: { width, height, channels: 3, background: '#d2b48c' } })
    [format]()
    .withExif({ IFD0: { Make: 'PhoneMaker', Model: 'Cheap Phone 1' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '37/1 58/1 4512/100', GPSLongitudeRef: 'E', GPSLongitude: '23/1 43/1 1234/100' } })
    .toBuffer();
}

export const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
export const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(400, 0x90)]);

/** The submit form's revision field on a learner's page. */
export function revisionOf(html: string): string {
  const m = /name="revision" value="(\d+)"/.exec(html);
  if (!m) throw new Error('no revision on the page');
  return m[1]!;
}
