/**
 * The page-weight budget as a check: the demo school's Greek course measured in headless Chromium
 * (bench/page-weight.ts), failing when any lesson page moves more than 14 KB on a first visit or
 * 5 KB on a repeat visit.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUDGET, weightTable, measurePageWeight, type PageWeightReport } from '../../bench/page-weight.ts';
import { importShippedCourses } from '../../src/courses/index.ts';
import { DEMO_PASSWORD, seedDemo } from '../../src/demo/seed.ts';
import { bootApp, type TestApp } from '../support/app.ts';

let t: TestApp;
let report: PageWeightReport;
const quiet = { info: () => undefined, warn: () => undefined };

beforeAll(async () => {
  t = await bootApp();
  await importShippedCourses(t.em(), path.join(t.config.dataDir, 'files'), quiet);
  await seedDemo(t.em());
  const { url } = await t.listen();
  report = await measurePageWeight({ baseUrl: url, username: 'learner1', password: DEMO_PASSWORD, courseTitle: /greek/i });
  console.log(weightTable(report));
}, 300_000);
afterAll(() => t.close());

describe('page weight of a learner on a phone', () => {
  it('when learner1 opens every lesson of the Greek course for the first time, then none moves more than 14 KB', () => {
    const lessons = report.pages.filter((p) => p.kind === 'lesson');
    expect(lessons.length).toBeGreaterThanOrEqual(6);
    expect(lessons.filter((p) => p.first.bytes > BUDGET.lessonFirst).map((p) => `${p.path} ${p.first.bytes} B`)).toEqual([]);
  });

  it('when learner1 opens each lesson again, then the stylesheet and scripts come from the cache and at most 5 KB moves', () => {
    const lessons = report.pages.filter((p) => p.kind === 'lesson');
    expect(lessons.filter((p) => p.repeat.bytes > BUDGET.lessonRepeat).map((p) => `${p.path} ${p.repeat.bytes} B`)).toEqual([]);
    expect(lessons.flatMap((p) => p.repeat.responses.filter((r) => r.url.startsWith('/assets/')).map((r) => `${p.path} ${r.url}`))).toEqual([]);
  });

  it('when learner1 opens the course page, then its next lessons are kept for offline reading', () => {
    const course = report.pages.find((p) => p.kind === 'course')!;
    expect(course.keptForOffline).toBeGreaterThan(0);
  });
});
