/**
 * learner1 of the demo school on a phone (Chromium, 360×640): opens the Greek course, finishes a
 * reading lesson with "mark as done" and passes a quiz — once with JavaScript and once without.
 */
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { User } from '../../src/accounts/index.ts';
import { DEMO_PASSWORD } from '../../src/demo/seed.ts';
import { browserSchool, expectFitsThePhone, phone, signInAs } from '../support/browser.ts';

const school = browserSchool({ demo: true });

// Each run starts learner1 afresh, so both runs walk the same path.
beforeEach(async () => {
  const em = school.t.em();
  const { id } = await em.findOneOrFail(User, { username: 'learner1' });
  for (const table of ['quiz_attempts', 'course_completions', 'study_time', 'lesson_progress']) await em.execute(`DELETE FROM ${table} WHERE learner_id = ?`, [id]);
});

describe('a learner finishes lessons on a phone', () => {
  it.each([
    ['with JavaScript', true],
    ['without JavaScript', false],
  ])('when learner1 opens the Greek course %s, then they mark a reading lesson done and pass a quiz, and the course shows both done', async (_label, javaScriptEnabled) => {
    const { context, page } = await phone(school.browser, { javaScriptEnabled });
    const media: string[] = [];
    page.on('request', (r) => {
      if (/\.(opus|ogg|mp3|m4a|mp4|webm)$/.test(new URL(r.url()).pathname)) media.push(r.url());
    });
    await signInAs(page, school.url, 'learner1', DEMO_PASSWORD);

    await page.click('nav a[href="/courses"]');
    await expect.poll(() => page.textContent('h1')).toBe('My courses');
    await page.getByRole('link', { name: 'Greek A1: first steps', exact: true }).click();
    await page.getByRole('link', { name: 'The Greek alphabet', exact: true }).click();
    expect(await page.textContent('h1')).toBe('The Greek alphabet');
    expect(await page.textContent('main')).toContain('Lesson 1 of 8');
    // Nothing is wider than the phone, the letters table included.
    await expectFitsThePhone(page);
    await page.screenshot({ path: `test-results/lesson-360-${javaScriptEnabled ? 'js' : 'nojs'}.png`, fullPage: true });

    const alphabet = new URL(page.url()).pathname;
    await Promise.all([page.waitForURL((u) => u.pathname !== alphabet), page.getByRole('button', { name: 'Mark as done' }).click()]);
    expect(await page.textContent('h1')).toBe('Hello and goodbye');
    expect(await page.textContent('.notice')).toContain('The Greek alphabet');
    // An audio lesson: its size is shown, and nothing is fetched until the learner taps.
    expect(await page.textContent('main')).toMatch(/Audio · .+ — tap to load/);

    await page.getByRole('link', { name: 'Greek A1: first steps', exact: true }).click();
    await page.getByRole('link', { name: 'Quiz: first words', exact: true }).click();
    await page.check('#a-q1-a');
    await page.check('#a-q2-a');
    await page.check('#a-q3-a');
    await page.check('#a-q3-b');
    await page.fill('input[name="a-q4"]', 'lene');
    await page.fill('input[name="a-q5"]', 'efharisto');
    await page.check('#a-q6-a');
    await Promise.all([page.waitForURL(/\/attempts\/\d+$/), page.getByRole('button', { name: 'Check my answers' }).click()]);
    expect(await page.textContent('.notice')).toContain('You passed.');
    expect(await page.textContent('main')).toContain('100%');
    expect(await page.textContent('main')).toContain('Ναι (ne) means yes');

    await page.getByRole('link', { name: 'Greek A1: first steps', exact: true }).click();
    expect(await page.textContent('main')).toContain('2 of 8 lessons done');
    expect(await page.locator('li', { hasText: 'The Greek alphabet' }).textContent()).toContain('✓ Done');
    expect(await page.locator('li', { hasText: 'Quiz: first words' }).textContent()).toContain('✓ Done');
    expect(media).toEqual([]);
    await context.close();
  }, 60_000);

  it('when learner1 reads every lesson with Arabic chosen, then each page is right-to-left and no wider than the phone, English lists included', async () => {
    const em = school.t.em();
    await em.execute(`UPDATE users SET language = 'ar' WHERE username = 'learner1'`);
    const lessons = (await em.execute(
      `SELECT DISTINCT l.id FROM lessons l JOIN cohort_courses cc ON cc.course_id = l.course_id
         JOIN enrolments e ON e.cohort_id = cc.cohort_id JOIN users u ON u.id = e.learner_id
        WHERE u.username = 'learner1' AND NOT l.retired AND l.type <> 'scorm' ORDER BY l.id`,
    )) as { id: number }[];
    expect(lessons.length).toBeGreaterThan(10);
    const { context, page } = await phone(school.browser);
    await signInAs(page, school.url, 'learner1', DEMO_PASSWORD);
    const tooWide: string[] = [];
    for (const { id } of lessons) {
      await page.goto(`${school.url}/lessons/${id}`);
      expect(await page.getAttribute('html', 'dir')).toBe('rtl');
      if ((await page.evaluate(() => document.documentElement.scrollWidth)) > 360) tooWide.push(`/lessons/${id}`);
    }
    expect(tooWide).toEqual([]);
    await em.execute(`UPDATE users SET language = NULL WHERE username = 'learner1'`);
    await context.close();
  }, 90_000);
});
