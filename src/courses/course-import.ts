/**
 * Importing course folders: read and check everything, make the media ready, then write the
 * course in one transaction. An invalid course changes nothing. Re-importing matches units and
 * lessons by slug, so learners keep their progress; a lesson that left the files is retired
 * (hidden, its progress kept), and comes back if its slug returns.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { projectRoot } from '../platform/database.ts';
import { Course, Lesson, Unit, type ImageVariants, type LessonMedia } from './course.entity.ts';
import { courseFoldersIn, readCourse, MEDIA_LIMITS, type CourseSource, type Problem } from './course-files.ts';
import { PendingMedia, imageVariants, mediaType } from './media.ts';
import { renderMarkdown } from './render.ts';

/** The course folders shipped with Dars (the demo courses). */
export const COURSES_ROOT = path.join(projectRoot, 'courses');

export interface CourseImportResult {
  /** The course folder, relative to the folder holding the courses. */
  folder: string;
  slug: string | null;
  title: string | null;
  status: 'created' | 'updated' | 'unchanged' | 'invalid';
  lessons: number;
  problems: Problem[];
}

export interface ImportOptions {
  /** DATA_DIR/files: media variants go under course-media/. */
  filesDir: string;
  onProgress?: (done: number, total: number, folder: string) => void;
}

/** Imports every course folder under `root` (or the folders given). */
export async function importCourses(em: EntityManager, root: string, opts: ImportOptions & { only?: string[] }): Promise<CourseImportResult[]> {
  const folders = opts.only?.length ? opts.only.map((f) => path.resolve(root, f)) : await courseFoldersIn(root);
  const results: CourseImportResult[] = [];
  const slugs = new Map<string, string>();
  for (const [i, folder] of folders.entries()) {
    const result = await importCourseFolder(em, folder, { ...opts, base: root, taken: slugs });
    if (result.slug && result.status !== 'invalid') slugs.set(result.slug, result.folder);
    results.push(result);
    opts.onProgress?.(i + 1, folders.length, result.folder);
  }
  return results;
}

export async function importCourseFolder(
  em: EntityManager,
  folder: string,
  opts: ImportOptions & { base?: string; taken?: Map<string, string> },
): Promise<CourseImportResult> {
  const base = opts.base ?? path.dirname(folder);
  const rel = (p: string) => path.relative(base, p).split(path.sep).join('/');
  const { course: source, problems } = await readCourse(path.resolve(folder), base);
  const result: CourseImportResult = { folder: rel(folder), slug: source?.slug ?? null, title: source?.title ?? null, status: 'invalid', lessons: 0, problems };
  if (!source) return result;
  result.lessons = source.units.reduce((n, u) => n + u.lessons.length, 0);

  const other = opts.taken?.get(source.slug);
  if (other) {
    problems.push({ file: `${rel(folder)}/course.yaml`, line: null, key: 'duplicateCourse', vars: { slug: source.slug, other } });
    return result;
  }
  const existing = await em.fork().findOne(Course, { slug: source.slug });
  if (existing?.sourceHash === source.hash) {
    result.status = 'unchanged';
    return result;
  }

  const pending = new PendingMedia();
  const prepared = await prepare(source, pending, (p) => problems.push({ ...p, file: rel(p.file) }));
  if (problems.length || !prepared) return result;
  await pending.write(opts.filesDir);
  result.status = (await store(em, source, prepared)) ? 'created' : 'updated';
  return result;
}

interface Prepared {
  image: ImageVariants | null;
  lessons: Map<string, { media: LessonMedia[]; html: string; dataSaverHtml: string }>;
}

/** Reads every media file, checks its real type and size, makes image variants and renders the Markdown. */
async function prepare(source: CourseSource, pending: PendingMedia, problem: (p: Problem) => void): Promise<Prepared | null> {
  let ok = true;
  const fail = (file: string, line: number | null, key: string, vars: Record<string, unknown>) => {
    ok = false;
    problem({ file, line, key, vars });
  };
  const image = async (file: string, from: string, line: number | null) => {
    const data = await readFile(file);
    if (data.length > MEDIA_LIMITS.image) return fail(from, line, 'mediaTooLarge', { path: path.basename(file), max: MEDIA_LIMITS.image }), null;
    if (!(await mediaType(data, 'image'))) return fail(from, line, 'notMediaOfKind', { path: path.basename(file), kind: 'image' }), null;
    try {
      return await imageVariants(data, pending);
    } catch {
      return fail(from, line, 'unreadableImage', { path: path.basename(file) }), null;
    }
  };

  const courseImage = source.image ? await image(source.image, path.join(source.folder, 'course.yaml'), null) : null;
  const lessons: Prepared['lessons'] = new Map();
  for (const unit of source.units) {
    for (const lesson of unit.lessons) {
      const media: LessonMedia[] = [];
      for (const m of lesson.media) {
        if (m.kind === 'image') {
          const v = await image(m.file, m.from, m.line);
          if (v) media.push({ kind: 'image', url: v.url, mime: 'image/webp', bytes: v.bytes, title: m.title, transcript: m.transcript, poster: null, image: v });
          continue;
        }
        const data = await readFile(m.file);
        const type = await mediaType(data, m.kind);
        if (data.length > MEDIA_LIMITS[m.kind]) fail(m.from, m.line, 'mediaTooLarge', { path: path.basename(m.file), max: MEDIA_LIMITS[m.kind] });
        else if (!type) fail(m.from, m.line, 'notMediaOfKind', { path: path.basename(m.file), kind: m.kind });
        const poster = m.poster ? await image(m.poster, m.from, m.line) : null;
        if (!type || data.length > MEDIA_LIMITS[m.kind]) continue;
        media.push({ kind: m.kind, ...pending.add(data, type.ext), mime: type.mime, title: m.title, transcript: m.transcript, poster, image: null });
      }
      const images = new Map<string, ImageVariants>();
      for (const [written, file] of lesson.images) {
        const v = await image(file, lesson.file, null);
        if (v) images.set(written, v);
      }
      lessons.set(lesson.slug, { media, ...renderMarkdown(lesson.markdown, images) });
    }
  }
  return ok ? { image: courseImage, lessons } : null;
}

/** Writes the course in one transaction; true when it is new. */
async function store(em: EntityManager, source: CourseSource, prepared: Prepared): Promise<boolean> {
  return em.transactional(async (tx) => {
    let course = await tx.findOne(Course, { slug: source.slug });
    const created = !course;
    const fields = {
      title: source.title,
      language: source.language,
      instructionLanguages: source.instructionLanguages,
      level: source.level,
      subject: source.subject,
      summary: source.summary,
      studyHours: source.studyHours,
      license: source.license,
      image: prepared.image,
      sourceHash: source.hash,
      importedAt: new Date(),
    };
    if (course) tx.assign(course, fields);
    else course = tx.create(Course, { slug: source.slug, ...fields });

    const units = new Map((await tx.find(Unit, { course })).map((u) => [u.slug, u]));
    const lessons = new Map((await tx.find(Lesson, { course })).map((l) => [l.slug, l]));
    const keptUnits = new Set<string>();
    const keptLessons = new Set<string>();
    let position = 0;
    for (const [u, unitSource] of source.units.entries()) {
      let unit = units.get(unitSource.slug);
      if (unit) tx.assign(unit, { title: unitSource.title, position: u });
      else unit = tx.create(Unit, { course, slug: unitSource.slug, title: unitSource.title, position: u });
      keptUnits.add(unitSource.slug);
      for (const l of unitSource.lessons) {
        const ready = prepared.lessons.get(l.slug)!;
        const lessonFields = {
          unit,
          title: l.title,
          type: l.type,
          minutes: l.minutes,
          position: ++position,
          bodyHtml: ready.html,
          bodyHtmlDataSaver: ready.dataSaverHtml,
          media: ready.media,
          quiz: l.quiz,
          retired: false,
        };
        const lesson = lessons.get(l.slug);
        if (lesson) tx.assign(lesson, lessonFields);
        else tx.create(Lesson, { course, slug: l.slug, ...lessonFields });
        keptLessons.add(l.slug);
      }
    }
    // SCORM lessons are uploaded in Dars, not written in the files: they stay while their unit does.
    const uploaded = (l: Lesson) => l.type === 'scorm' && [...units.values()].some((u) => u.id === l.unit?.id && keptUnits.has(u.slug));
    for (const [slug, lesson] of lessons) if (!keptLessons.has(slug) && !uploaded(lesson)) tx.assign(lesson, { retired: true, unit: null, position: ++position });
    await tx.flush();
    for (const [slug, unit] of units) if (!keptUnits.has(slug)) tx.remove(unit);
    await tx.flush();
    return created;
  });
}

/** True when no course has been imported yet (start-up imports the demo courses then). */
export async function noCoursesYet(em: EntityManager) {
  return (await em.count(Course, {})) === 0;
}

/** The import report as lines of text: one per course, then each problem as `file:line  message`. */
export function formatImportReport(results: CourseImportResult[], t: (key: string, vars?: Record<string, unknown>) => string) {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(t(`courses:import.status.${r.status}`, { folder: r.folder, title: r.title ?? r.folder, count: r.status === 'invalid' ? r.problems.length : r.lessons }));
    for (const p of r.problems) lines.push(`  ${p.file}${p.line ? `:${p.line}` : ''}  ${t(`courses:importErrors.${p.key}`, p.vars)}`);
  }
  if (!results.length) lines.push(t('courses:import.none'));
  return lines.join('\n');
}

/** First start on an empty database: the courses shipped under courses/ are imported, and any that fail are logged. */
export async function importShippedCourses(em: EntityManager, filesDir: string, logger: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void }) {
  const results = await importCourses(em, COURSES_ROOT, { filesDir });
  for (const r of results) {
    if (r.status === 'invalid') logger.warn({ folder: r.folder, problems: r.problems }, `Course ${r.folder} was not imported: run npm run courses:import to see why.`);
    else logger.info({ folder: r.folder, lessons: r.lessons }, `Course ${r.title} imported.`);
  }
}
