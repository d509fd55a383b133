import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Course, Lesson, LessonProgress } from '../../src/courses/index.ts';
import { importCourses } from '../../src/courses/course-import.ts';
import { mediaDir } from '../../src/courses/media.ts';
import { completeLesson } from '../../src/courses/progress.service.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeUser } from '../support/factories.ts';
import { COURSE_YAML, LESSONS, writeCourse } from './fixtures.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());

const filesDir = () => path.join(t.config.dataDir, 'files');
const run = (root: string) => importCourses(t.em(), root, { filesDir: filesDir() });
/** Each course gets its own slug so the tests, sharing one database, do not meet. */
const renamed = (slug: string, yaml = COURSE_YAML) => yaml.replace('slug: fixture-course', `slug: ${slug}`);

describe('importing a course folder', () => {
  it('when the course is valid, then units, lessons, sanitised HTML, image variants and media are stored', async () => {
    const { root } = await writeCourse({ yaml: renamed('valid-course') });
    const [result] = await run(root);
    expect(result).toMatchObject({ folder: 'fixture-course', slug: 'valid-course', status: 'created', lessons: 4, problems: [] });

    const em = t.em();
    const course = await em.findOneOrFail(Course, { slug: 'valid-course' });
    expect(course.title).toBe('Fixture course');
    expect(course.image?.srcset).toMatch(/^\/media\/[0-9a-f]{32}\.webp 320w, \/media\/[0-9a-f]{32}\.webp 640w$/);
    const lessons = await em.find(Lesson, { course }, { orderBy: { position: 'asc' }, populate: ['unit'] });
    expect(lessons.map((l) => [l.slug, l.type, l.unit?.getEntity().slug])).toEqual([
      ['intro', 'text', 'first'],
      ['listen', 'audio', 'first'],
      ['watch', 'video', 'second'],
      ['quiz', 'quiz', 'second'],
    ]);
    const intro = lessons[0]!;
    expect(intro.bodyHtml).not.toContain('<script');
    expect(intro.bodyHtml).toMatch(/<img src="\/media\/[0-9a-f]{32}\.webp" srcset="[^"]+ 320w, [^"]+ 640w" sizes="[^"]+" width="320" height="240" alt="A map of Athens" loading="lazy" decoding="async" \/?>/);
    expect(intro.bodyHtml).toContain('<blockquote dir="auto">');
    expect(intro.bodyHtmlDataSaver).toMatch(/<details class="tap"><summary data-image="\d+"><\/summary><img /);
    const audio = lessons[1]!.media[0]!;
    expect(audio).toMatchObject({ kind: 'audio', mime: 'audio/ogg', title: 'Listen: hello', transcript: 'Γεια σου.' });
    expect(existsSync(path.join(mediaDir(filesDir()), path.basename(audio.url)))).toBe(true);
    const video = lessons[2]!.media[0]!;
    expect(video.kind).toBe('video');
    expect(video.poster?.url).toMatch(/\.webp$/);
    expect(lessons[3]!.quiz?.questions.map((q) => [q.id, q.type])).toEqual([['q1', 'single'], ['q2', 'multiple'], ['q3', 'fill']]);

    const [again] = await run(root);
    expect(again!.status).toBe('unchanged');
  });

  it('when course.yaml is not valid YAML, then the report names the file and line and nothing is stored', async () => {
    const yaml = renamed('broken-yaml').replace('instructionLanguages: [en, ar]', 'instructionLanguages: [en, ar');
    const { root } = await writeCourse({ yaml });
    const [result] = await run(root);
    expect(result!.status).toBe('invalid');
    expect(result!.problems[0]).toMatchObject({ file: 'fixture-course/course.yaml', key: 'yamlSyntax' });
    expect(result!.problems[0]!.line).toBeGreaterThanOrEqual(4);
    expect(await t.em().count(Course, { slug: 'broken-yaml' })).toBe(0);
  });

  it('when a lesson file is missing, then the report points at the line that lists it and nothing is stored', async () => {
    const { root } = await writeCourse({ yaml: renamed('missing-lesson'), lessons: { '02-listen.md': null } });
    const [result] = await run(root);
    expect(result!.status).toBe('invalid');
    expect(result!.problems).toEqual([{ file: 'fixture-course/course.yaml', line: 16, key: 'missingFile', vars: { path: 'lessons/02-listen.md' } }]);
    expect(await t.em().count(Course, { slug: 'missing-lesson' })).toBe(0);
  });

  it('when two lessons or two units share a slug, then every duplicate is reported with its file and line', async () => {
    const yaml = renamed('duplicates').replace('  - slug: second', '  - slug: first');
    const { root } = await writeCourse({ yaml, lessons: { '02-listen.md': LESSONS['02-listen.md']!.replace('slug: listen', 'slug: intro') } });
    const [result] = await run(root);
    expect(result!.status).toBe('invalid');
    expect(result!.problems).toEqual(
      expect.arrayContaining([
        { file: 'fixture-course/course.yaml', line: 17, key: 'duplicateUnit', vars: { slug: 'first', line: 12 } },
        { file: 'fixture-course/lessons/02-listen.md', line: 2, key: 'duplicateLesson', vars: { slug: 'intro', other: 'fixture-course/lessons/01-intro.md' } },
      ]),
    );
    expect(await t.em().count(Course, { slug: 'duplicates' })).toBe(0);
  });

  it('when a lesson breaks several rules, then each is reported with its line', async () => {
    const quiz = LESSONS['04-quiz.md']!.replace('minutes: 8', 'minutes: eight').replace('        - { id: b, text: "Ευχαριστώ" }', '        - { id: b, text: "Ευχαριστώ", correct: true }');
    const listen = LESSONS['02-listen.md']!.replace('    kind: audio', '    kind: audio\n    colour: red');
    const { root } = await writeCourse({ yaml: renamed('many-problems'), lessons: { '04-quiz.md': quiz, '02-listen.md': listen } });
    const [result] = await run(root);
    expect(result!.problems).toEqual(
      expect.arrayContaining([
        { file: 'fixture-course/lessons/04-quiz.md', line: 5, key: 'invalid', vars: { field: 'minutes' } },
        { file: 'fixture-course/lessons/02-listen.md', line: 9, key: 'unknownField', vars: { field: 'media.0.colour' } },
      ]),
    );
  });

  it('when a valid course is edited into an invalid one, then the import changes nothing', async () => {
    const { root, dir } = await writeCourse({ yaml: renamed('stays-put') });
    await run(root);
    writeFileSync(path.join(dir, 'course.yaml'), renamed('stays-put').replace('title: "Fixture course"', 'title: "Changed"'));
    writeFileSync(path.join(dir, 'lessons', '04-quiz.md'), LESSONS['04-quiz.md']!.replace('        - { id: b, text: "Ευχαριστώ" }', '        - { id: b, text: "Ευχαριστώ", correct: true }'));
    const [result] = await run(root);
    expect(result!.status).toBe('invalid');
    expect(result!.problems).toEqual([{ file: 'fixture-course/lessons/04-quiz.md', line: 13, key: 'singleNeedsOneCorrect', vars: { id: 'q1' } }]);
    expect((await t.em().findOneOrFail(Course, { slug: 'stays-put' })).title).toBe('Fixture course');
  });

  it('when an edited course is imported again, then lessons are matched by slug and learners keep their progress', async () => {
    const { root, dir } = await writeCourse({ yaml: renamed('keeps-progress') });
    await run(root);
    const em = t.em();
    const learner = await makeUser(em, 'learner');
    const course = await em.findOneOrFail(Course, { slug: 'keeps-progress' });
    const listen = await em.findOneOrFail(Lesson, { course, slug: 'listen' });
    const watch = await em.findOneOrFail(Lesson, { course, slug: 'watch' });
    await completeLesson(em, learner.id, { id: listen.id, courseId: course.id });
    await completeLesson(em, learner.id, { id: watch.id, courseId: course.id });

    // Reorder, retitle, drop "watch", add "extra".
    const yaml = renamed('keeps-progress')
      .replace('      - 01-intro.md\n      - 02-listen.md', '      - 02-listen.md\n      - 01-intro.md\n      - 05-extra.md')
      .replace('      - 03-watch.md\n', '');
    writeFileSync(path.join(dir, 'course.yaml'), yaml);
    writeFileSync(path.join(dir, 'lessons', '02-listen.md'), LESSONS['02-listen.md']!.replace('title: Listen', 'title: Listen and repeat'));
    writeFileSync(path.join(dir, 'lessons', '05-extra.md'), '---\nslug: extra\ntitle: Extra\ntype: text\nminutes: 3\n---\n\nMore.\n');
    const [result] = await run(root);
    expect(result!.status).toBe('updated');

    const after = t.em();
    const lessons = await after.find(Lesson, { course: course.id }, { orderBy: { position: 'asc' } });
    expect(lessons.map((l) => [l.slug, l.retired])).toEqual([
      ['listen', false],
      ['intro', false],
      ['extra', false],
      ['quiz', false],
      ['watch', true],
    ]);
    expect(lessons[0]!.id).toBe(listen.id);
    expect(lessons[0]!.title).toBe('Listen and repeat');
    const progress = await after.find(LessonProgress, { learner: learner.id }, { orderBy: { lesson: { position: 'asc' } } });
    expect(progress.map((p) => [p.lesson.id, !!p.completedAt])).toEqual([
      [listen.id, true],
      [watch.id, true],
    ]);

    // The retired lesson comes back when its file is listed again.
    writeFileSync(path.join(dir, 'course.yaml'), renamed('keeps-progress'));
    await run(root);
    expect((await t.em().findOneOrFail(Lesson, watch.id)).retired).toBe(false);
  });

  it('when two folders carry the same course slug, then the second is refused', async () => {
    const { root } = await writeCourse({ yaml: renamed('twice') });
    const second = await writeCourse({ yaml: renamed('twice'), slugDir: 'copy' });
    const results = await importCourses(t.em(), root, { filesDir: filesDir(), only: [path.join(root, 'fixture-course'), second.dir] });
    expect(results.map((r) => r.status)).toEqual(['created', 'invalid']);
    expect(results[1]!.problems[0]).toMatchObject({ key: 'duplicateCourse', vars: { slug: 'twice' } });
    expect(readFileSync(path.join(second.dir, 'course.yaml'), 'utf8')).toContain('twice');
  });
});
