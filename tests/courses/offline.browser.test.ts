/**
 * Offline reading on a phone (Chromium, 360×640, network cut with the browser's own emulation):
 * the course page keeps the next lessons, a kept lesson opens without a connection, "done" made
 * offline is sent once the connection returns and recorded exactly once.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { User } from '../../src/accounts/index.ts';
import { Lesson, LessonProgress } from '../../src/courses/index.ts';
import { DEMO_PASSWORD } from '../../src/demo/seed.ts';
import { browserSchool, phone, signInAs } from '../support/browser.ts';

const school = browserSchool({ demo: true });

/** Paths of the lesson pages the phone keeps, read from the page's own Cache Storage. */
function keptLessons(page: Page) {
  return page.evaluate(async () => (await (await caches.open('dars-lessons')).keys()).map((r) => new URL(r.url).pathname).filter((p) => p.startsWith('/lessons/')));
}

async function progressRows(learnerId: number) {
  return school.t.em().find(LessonProgress, { learner: learnerId }, { populate: ['lesson'] });
}

async function openGreekCourse(context: BrowserContext, page: Page) {
  await signInAs(page, school.url, 'learner1', DEMO_PASSWORD);
  await page.goto(`${school.url}/courses`);
  await Promise.all([page.waitForURL(/\/courses\/\d+$/), page.getByRole('link', { name: /Greek/ }).click()]);
  // The worker keeps the next three lessons not yet done (a done one carries the ✓ tag).
  const nextThree = await page
    .locator('main li > a[href^="/lessons/"]')
    .evaluateAll((as) => as.filter((a) => !a.parentElement!.querySelector('.ok')).slice(0, 3).map((a) => a.getAttribute('href')!));
  expect(nextThree).toHaveLength(3);
  await expect.poll(async () => (await keptLessons(page)).sort(), { timeout: 10_000 }).toEqual([...nextThree].sort());
  expect(context.serviceWorkers().length).toBe(1);
  return nextThree;
}

describe('reading offline', () => {
  it('when learner1 opens the Greek course, goes offline, opens a kept lesson and marks it done, then it is recorded once when the phone is back online', async () => {
    const learner = await school.t.em().findOneOrFail(User, { username: 'learner1' });
    const { context, page } = await phone(school.browser);
    const [first, second] = await openGreekCourse(context, page);
    // Keeping lessons is not studying them: no visit was recorded.
    expect(await progressRows(learner.id)).toEqual([]);
    const lesson = await school.t.em().findOneOrFail(Lesson, { id: Number(first!.split('/').pop()) });

    await context.setOffline(true);
    await page.goto(`${school.url}${first}`);
    await expect.poll(() => page.locator('main .notice').first().textContent()).toContain('You are offline. This is the copy of the lesson saved on this phone.');
    expect(await page.locator('h1').textContent()).toBe(lesson.title);

    // Tapped twice: the second tap lands on the same outbox entry.
    await Promise.all([page.waitForURL((u) => u.search === '?queued'), page.getByRole('button', { name: 'Mark as done' }).click()]);
    expect(new URL(page.url()).pathname).toBe(second);
    expect(await page.locator('main .notice').first().textContent()).toContain('Saved on this phone. It will be sent when you are back online.');
    await page.goto(`${school.url}${first}`);
    await Promise.all([page.waitForURL((u) => u.search === '?queued'), page.getByRole('button', { name: 'Mark as done' }).click()]);
    expect(await progressRows(learner.id)).toEqual([]);

    await context.setOffline(false);
    await expect.poll(() => page.locator('main .notice').first().textContent(), { timeout: 10_000 }).toBe('What you did offline has been sent.');
    const rows = await progressRows(learner.id);
    expect(rows.map((r) => [r.lesson.id, !!r.completedAt])).toEqual([[lesson.id, true]]);
    const outbox = await page.evaluate(async () => (await (await caches.open('dars-outbox')).keys()).length);
    expect(outbox).toBe(0);

    // The next page load finds nothing left to send: still one completion.
    await page.goto(`${school.url}${first}`);
    await expect.poll(async () => (await progressRows(learner.id)).filter((r) => r.completedAt).length).toBe(1);
    expect(await page.locator('h1').textContent()).toBe(lesson.title);

    // Signing out takes the kept lessons with it.
    await Promise.all([page.waitForURL(/\/login$/), page.getByRole('button', { name: 'Sign out' }).click()]);
    expect(await page.evaluate(async () => (await caches.keys()).length)).toBe(0);
    await context.close();
  });

  it('when a page was never kept, then offline the phone says so and lists the lessons it has', async () => {
    const { context, page } = await phone(school.browser);
    const kept = await openGreekCourse(context, page);
    const titles = await Promise.all(kept.map(async (href) => (await school.t.em().findOneOrFail(Lesson, { id: Number(href.split('/').pop()) })).title));
    const other = await page.locator('main li > a[href^="/lessons/"]').evaluateAll((as, k) => as.map((a) => a.getAttribute('href')!).find((h) => !k.includes(h))!, kept);
    await context.setOffline(true);

    await page.goto(`${school.url}${other}`);
    expect(await page.locator('main .notice').textContent()).toBe('You are offline and this lesson is not saved on this phone.');
    expect(await page.locator('main h1').textContent()).toBe('Lessons saved on this phone');
    expect(await page.locator('main li a').allTextContents()).toEqual(titles);

    await page.goto(`${school.url}/`);
    expect(await page.locator('main .notice').textContent()).toBe('You are offline and this page is not saved on this phone.');
    await Promise.all([page.waitForURL(`${school.url}${kept[0]}`), page.getByRole('link', { name: titles[0] }).click()]);
    expect(await page.locator('h1').textContent()).toBe(titles[0]);
    await context.close();
  });
});
