/**
 * Reading a course folder (courses/FORMAT.md) and checking every rule before anything is stored.
 * Each problem names its file and line, so an author can fix them all in one go.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, isMap, isSeq, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import type { LessonType, Quiz } from './course.entity.ts';

export interface Problem {
  /** Path relative to the folder holding the courses, e.g. `greek-a1/lessons/02-hello.md`. */
  file: string;
  line: number | null;
  /** i18next key under courses:importErrors, and its variables. */
  key: string;
  vars?: Record<string, unknown>;
}

export interface MediaSource {
  kind: 'audio' | 'video' | 'image';
  /** Absolute path of the file. */
  file: string;
  /** Where it was named (lesson file and line), for problems found when the bytes are read. */
  from: string;
  line: number | null;
  title: string | null;
  transcript: string | null;
  poster: string | null;
}

export interface LessonSource {
  slug: string;
  title: string;
  type: LessonType;
  minutes: number;
  media: MediaSource[];
  quiz: Quiz | null;
  markdown: string;
  /** Absolute paths of the images the Markdown body shows, by the path written in it. */
  images: Map<string, string>;
  file: string;
}

export interface CourseSource {
  folder: string;
  slug: string;
  title: string;
  language: string;
  instructionLanguages: string[];
  level: string;
  subject: string;
  summary: string;
  studyHours: number;
  license: string;
  image: string | null;
  units: { slug: string; title: string; lessons: LessonSource[] }[];
  /** Changes when any file of the course changes (or the importer's output does). */
  hash: string;
}

/** Bump when the importer renders lessons differently, so unchanged folders are imported again. */
const RENDER_VERSION = '1';

export const MEDIA_LIMITS = { audio: 10_000_000, video: 30_000_000, image: 10_000_000 } as const;

const slug = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'slug').max(80);
const text = (max: number) => z.string().trim().min(1).max(max);
const lang = z.string().regex(/^[a-z]{2,3}$/, 'language');

const courseSchema = z.strictObject({
  slug,
  title: text(200),
  language: lang,
  instructionLanguages: z.array(lang).min(1).max(8),
  level: z.enum(['A1', 'A2', 'B1', 'B2', 'C1', 'C2', 'beginner', 'intermediate', 'advanced']),
  subject: z.enum(['language', 'soft-skills']),
  summary: text(1000),
  studyHours: z.number().int().min(1).max(2000),
  license: text(80),
  image: z.string().optional(),
  units: z
    .array(z.strictObject({ slug, title: text(200), lessons: z.array(z.string().regex(/^[\w.-]+\.md$/, 'lessonFile')).min(1).max(200) }))
    .min(1)
    .max(100),
});

const optionText = z.union([z.string(), z.number()]).transform(String).pipe(text(300));
const questionSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]{1,20}$/, 'questionId'),
  type: z.enum(['single', 'multiple', 'fill']),
  prompt: text(1000),
  options: z.array(z.strictObject({ id: z.string().regex(/^[a-z0-9-]{1,20}$/, 'optionId'), text: optionText, correct: z.boolean().optional() })).max(12).optional(),
  answers: z.array(optionText).max(30).optional(),
  explanation: text(2000).optional(),
});

const lessonSchema = z.strictObject({
  slug,
  title: text(200),
  type: z.enum(['text', 'audio', 'video', 'quiz']),
  minutes: z.number().int().min(1).max(600),
  media: z
    .array(
      z.strictObject({
        file: z.string(),
        kind: z.enum(['audio', 'video', 'image']),
        title: text(200).optional(),
        transcript: text(5000).optional(),
        poster: z.string().optional(),
      }),
    )
    .max(10)
    .optional(),
  quiz: z.strictObject({ passScore: z.number().int().min(0).max(100).optional(), questions: z.array(questionSchema).min(1).max(50) }).optional(),
});

/** Reads every course folder under `root` (a folder with course.yaml is a course). */
export async function courseFoldersIn(root: string): Promise<string[]> {
  const names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  return names.sort().map((n) => path.join(root, n));
}

export interface ReadResult {
  course: CourseSource | null;
  problems: Problem[];
}

/** Reads and checks one course folder. `base` is what problem paths are relative to. */
export async function readCourse(folder: string, base = path.dirname(folder)): Promise<ReadResult> {
  const problems: Problem[] = [];
  const rel = (p: string) => path.relative(base, p).split(path.sep).join('/');
  const add = (file: string, line: number | null, key: string, vars?: Record<string, unknown>) => problems.push({ file: rel(file), line, key, vars });
  const hash = createHash('sha256').update(RENDER_VERSION);

  const yamlFile = path.join(folder, 'course.yaml');
  const yamlText = await readFile(yamlFile, 'utf8').catch(() => null);
  if (yamlText === null) {
    add(yamlFile, null, 'missingCourseYaml');
    return { course: null, problems };
  }
  hash.update(yamlText);
  const parsed = parseYaml(yamlText, 0, schemaProblemsOf(courseSchema), (line, key, vars) => add(yamlFile, line, key, vars));
  if (!parsed) return { course: null, problems };
  const data = parsed as z.output<typeof courseSchema>;

  /** A path written in a course file, resolved inside the course folder; null (and a problem) if it leaves it or is missing. */
  const inFolder = async (written: string, from: string, line: number | null): Promise<string | null> => {
    const target = path.resolve(folder, written);
    if (path.isAbsolute(written) || /^[a-z]+:/i.test(written) || !target.startsWith(folder + path.sep)) {
      add(from, line, 'outsideCourse', { path: written });
      return null;
    }
    const s = await stat(target).catch(() => null);
    if (!s?.isFile()) {
      add(from, line, 'missingFile', { path: written });
      return null;
    }
    return target;
  };

  const yamlLine = lineFinder(yamlText, 0);
  const image = data.image ? await inFolder(data.image, yamlFile, yamlLine(['image'])) : null;

  const unitSlugs = new Map<string, number>();
  const lessonSlugs = new Map<string, string>();
  const listedFiles = new Map<string, number>();
  const units: CourseSource['units'] = [];
  for (const [u, unit] of data.units.entries()) {
    const unitLine = yamlLine(['units', u, 'slug']);
    if (unitSlugs.has(unit.slug)) add(yamlFile, unitLine, 'duplicateUnit', { slug: unit.slug, line: unitSlugs.get(unit.slug) });
    else unitSlugs.set(unit.slug, unitLine ?? 0);
    const lessons: LessonSource[] = [];
    for (const [i, name] of unit.lessons.entries()) {
      const line = yamlLine(['units', u, 'lessons', i]);
      if (listedFiles.has(name)) {
        add(yamlFile, line, 'lessonListedTwice', { file: name, line: listedFiles.get(name) });
        continue;
      }
      listedFiles.set(name, line ?? 0);
      const file = await inFolder(`lessons/${name}`, yamlFile, line);
      if (!file) continue;
      const lesson = await readLesson(file, inFolder, add, hash);
      if (!lesson) continue;
      const other = lessonSlugs.get(lesson.slug);
      if (other) add(file, 2, 'duplicateLesson', { slug: lesson.slug, other: rel(other) });
      else lessonSlugs.set(lesson.slug, file);
      lessons.push(lesson);
    }
    units.push({ slug: unit.slug, title: unit.title, lessons });
  }

  // Media bytes take part in the hash, so replacing a recording re-imports the course.
  const files = new Set<string>(image ? [image] : []);
  for (const unit of units) for (const l of unit.lessons) for (const f of [...l.media.flatMap((m) => [m.file, m.poster ?? '']), ...l.images.values()]) if (f) files.add(f);
  for (const f of [...files].sort()) hash.update(f).update(await readFile(f));

  if (problems.length) return { course: null, problems };
  return {
    course: {
      folder,
      slug: data.slug,
      title: data.title,
      language: data.language,
      instructionLanguages: data.instructionLanguages,
      level: data.level,
      subject: data.subject,
      summary: data.summary,
      studyHours: data.studyHours,
      license: data.license,
      image,
      units,
      hash: hash.digest('hex'),
    },
    problems,
  };
}

type Add = (file: string, line: number | null, key: string, vars?: Record<string, unknown>) => void;
type InFolder = (written: string, from: string, line: number | null) => Promise<string | null>;

async function readLesson(file: string, inFolder: InFolder, add: Add, hash: ReturnType<typeof createHash>): Promise<LessonSource | null> {
  const source = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  hash.update(file).update(source);
  const m = /^---\n([\s\S]*?)\n---(?:\n|$)/.exec(source);
  if (!m) {
    add(file, 1, 'noFrontMatter');
    return null;
  }
  const front = m[1]!;
  let failed = false;
  // The front matter starts on line 2, after the opening ---.
  const data = parseYaml(front, 1, schemaProblemsOf(lessonSchema), (line, key, vars) => {
    failed = true;
    add(file, line, key, vars);
  }) as z.output<typeof lessonSchema> | null;
  if (!data || failed) return null;
  const line = lineFinder(front, 1);
  const markdown = source.slice(m[0].length);
  const bodyLine = m[0].split('\n').length;
  let ok = true;
  const problem: Add = (...args) => {
    ok = false;
    add(...args);
  };

  const media: MediaSource[] = [];
  for (const [i, item] of (data.media ?? []).entries()) {
    const found = await inFolder(item.file, file, line(['media', i, 'file']));
    const poster = item.poster ? await inFolder(item.poster, file, line(['media', i, 'poster'])) : null;
    if (item.poster && item.kind !== 'video') problem(file, line(['media', i, 'poster']), 'posterOnlyForVideo');
    if (!found || (item.poster && !poster)) {
      ok = false;
      continue;
    }
    media.push({ kind: item.kind, file: found, from: file, line: line(['media', i, 'file']), title: item.title ?? null, transcript: item.transcript ?? null, poster });
  }
  const needs = data.type === 'audio' || data.type === 'video' ? data.type : null;
  if (needs && (data.media ?? []).filter((x) => x.kind === needs).length !== 1) problem(file, line(['type']), 'needsOneMedia', { type: data.type });
  if (data.type === 'quiz' && !data.quiz) problem(file, line(['type']), 'quizMissing');
  if (data.type !== 'quiz' && data.quiz) problem(file, line(['quiz']), 'quizOnlyForQuizLessons');

  let quiz: Quiz | null = null;
  if (data.quiz && data.type === 'quiz') {
    const ids = new Set<string>();
    quiz = { passScore: data.quiz.passScore ?? 60, questions: [] };
    for (const [q, question] of data.quiz.questions.entries()) {
      const at = (...rest: (string | number)[]) => line(['quiz', 'questions', q, ...rest]);
      if (ids.has(question.id)) problem(file, at('id'), 'duplicateQuestion', { id: question.id });
      ids.add(question.id);
      const options = question.options ?? [];
      const optionIds = new Set(options.map((o) => o.id));
      if (optionIds.size !== options.length) problem(file, at('options'), 'duplicateOption', { id: question.id });
      const correct = options.filter((o) => o.correct).length;
      if (question.type === 'fill') {
        if (!question.answers?.length) problem(file, at('type'), 'fillNeedsAnswers', { id: question.id });
        if (options.length) problem(file, at('options'), 'fillHasNoOptions', { id: question.id });
      } else {
        if (options.length < 2) problem(file, at('type'), 'needsOptions', { id: question.id });
        else if (question.type === 'single' && correct !== 1) problem(file, at('options'), 'singleNeedsOneCorrect', { id: question.id });
        else if (question.type === 'multiple' && correct < 1) problem(file, at('options'), 'multipleNeedsCorrect', { id: question.id });
        if (question.answers?.length) problem(file, at('answers'), 'answersOnlyForFill', { id: question.id });
      }
      quiz.questions.push({
        id: question.id,
        type: question.type,
        prompt: question.prompt,
        options: options.map((o) => ({ id: o.id, text: o.text, correct: o.correct ?? false })),
        answers: question.answers ?? [],
        explanation: question.explanation ?? null,
      });
    }
  }

  // Images in the body: ![alt](media/x.jpg). Only the course's own files; a phone never fetches from elsewhere.
  const images = new Map<string, string>();
  const lines = markdown.split('\n');
  for (const [i, text] of lines.entries()) {
    for (const img of text.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const written = img[1]!;
      if (images.has(written)) continue;
      const found = await inFolder(written, file, bodyLine + i);
      if (found) images.set(written, found);
      else ok = false;
    }
  }
  if (!ok) return null;
  return { slug: data.slug, title: data.title, type: data.type, minutes: data.minutes, media, quiz, markdown, images, file };
}

type Report = (line: number | null, key: string, vars?: Record<string, unknown>) => void;

/** Parses YAML, reporting syntax errors, then checks it against a schema; null if anything is wrong. */
function parseYaml(source: string, lineOffset: number, check: (doc: Document, lc: LineCounter, offset: number, report: Report) => unknown, report: Report): unknown {
  const lc = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    for (const e of doc.errors) report(lc.linePos(e.pos[0]).line + lineOffset, 'yamlSyntax', { message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') });
    return null;
  }
  return check(doc, lc, lineOffset, report);
}

function schemaProblemsOf<S extends z.ZodType>(schema: S) {
  return (doc: Document, lc: LineCounter, offset: number, report: Report): z.output<S> | null => {
    const result = schema.safeParse(doc.toJS(), { reportInput: true });
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const field = at.join('.');
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) report(lineOf(doc, lc, [...at, key], true) + offset, 'unknownField', { field: [...at, key].join('.') });
        continue;
      }
      const line = lineOf(doc, lc, at) + offset;
      if (issue.code === 'invalid_type' && issue.input === undefined) report(line, 'required', { field });
      else if (issue.code === 'invalid_value') report(line, 'choose', { field, choices: issue.values.join(', ') });
      else if (issue.code === 'too_small' && issue.origin === 'array') report(line, 'tooFew', { field, min: Number(issue.minimum) });
      else if (issue.code === 'too_big') report(line, 'tooBig', { field, max: Number(issue.maximum) });
      else if (issue.code === 'too_small') report(line, issue.origin === 'string' ? 'required' : 'tooSmall', { field, min: Number(issue.minimum) });
      else if (issue.code === 'invalid_format' && ['slug', 'language', 'lessonFile', 'questionId', 'optionId'].includes(issue.message)) report(line, `format.${issue.message}`, { field });
      else report(line, 'invalid', { field });
    }
    return null;
  };
}

/** Line (1-based, within the document) of the node at `at`, or of its nearest existing parent. */
function lineOf(doc: Document, lc: LineCounter, at: (string | number)[], keyItself = false): number {
  for (let n = at.length; n >= 0; n--) {
    const parentPath = at.slice(0, Math.max(0, n - 1));
    const parent = n === 0 ? doc.contents : doc.getIn(parentPath, true);
    if (n === 0) {
      const range = (parent as { range?: [number, number, number] } | null)?.range;
      return range ? lc.linePos(range[0]).line : 1;
    }
    const last = at[n - 1]!;
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === last);
      const node = (keyItself || !pair?.value ? pair?.key : pair.value) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lc.linePos(node.range[0]).line;
    } else if (isSeq(parent) && typeof last === 'number') {
      const node = parent.items[last] as { range?: [number, number, number] } | undefined;
      if (node?.range) return lc.linePos(node.range[0]).line;
    }
  }
  return 1;
}

/** Finds lines in a YAML text by path (for rules checked after the schema). */
function lineFinder(source: string, offset: number) {
  const lc = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lc });
  return (at: (string | number)[]) => lineOf(doc, lc, at) + offset;
}
