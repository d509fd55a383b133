import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importShippedCourses, Lesson } from '../../src/courses/index.ts';
import { DEMO_PASSWORD, seedDemo } from '../../src/demo/seed.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { addDemoScormLesson, ScormPackage } from '../../src/scorm/index.ts';
import { signIn } from '../support/agent.ts';
import { bootScorm, launch, playerConfig, type ScormTestApp } from './support.ts';

let t: ScormTestApp;
let lessonId: number | null;
beforeAll(async () => {
  t = await bootScorm();
  await importShippedCourses(t.em(), path.join(t.config.dataDir, 'files'), createLogger('silent'));
  await seedDemo(t.em());
  lessonId = await addDemoScormLesson(t.em(), t.config.dataDir);
});
afterAll(() => t.close());

describe('the demo school', () => {
  it('when the demo is seeded, then the Greek course has a SCORM practice that learner1 can play and teacher1 can follow', async () => {
    expect(lessonId).not.toBeNull();
    const lesson = await t.em().findOneOrFail(Lesson, lessonId!, { populate: ['course', 'unit'] });
    expect(lesson).toMatchObject({ type: 'scorm', title: 'Practice: Greek numbers 1 to 5' });
    expect(lesson.course.getEntity().slug).toBe('greek-a1');
    expect(await t.em().findOneOrFail(ScormPackage, { lesson: lessonId! })).toMatchObject({ version: '1.2', fileCount: 4 });

    const learner = await signIn(t.app, 'learner1', DEMO_PASSWORD);
    const { path: playerPath } = await launch(learner, lessonId!);
    const config = playerConfig((await request(t.content).get(playerPath)).text);
    expect(config.lms['cmi.student_data.mastery_score']).toBe('60');
    const page = await request(t.content).get(config.launchUrl);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Practice: Greek numbers 1 to 5');
    const script = await request(t.content).get(config.launchUrl.replace('index.html', 'numbers.js'));
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.text).toContain('πέντε');

    const teacher = await signIn(t.app, 'teacher1', DEMO_PASSWORD);
    const report = await teacher.get(`/scorm/lessons/${lessonId}/report`);
    expect(report.status).toBe(200);
    expect(report.text).toContain('Amina Yusuf');
  });
});
