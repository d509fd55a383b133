/** Debian's Chromium driven by playwright-core, as a phone: 360×640, touch, a small screen. */
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { importShippedCourses } from '../../src/courses/index.ts';
import { seedDemo } from '../../src/demo/seed.ts';
import { bootApp, type TestApp } from './app.ts';

export const PHONE = { viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function phone(browser: Browser, opts: { javaScriptEnabled?: boolean; locale?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ ...PHONE, javaScriptEnabled: opts.javaScriptEnabled ?? true, locale: opts.locale ?? 'en-GB' });
  return { context, page: await context.newPage() };
}

/** Signs in through the real login form. */
export async function signInAs(page: Page, baseUrl: string, username: string, password: string) {
  await page.goto(`${baseUrl}/login`);
  await page.fill('#f-login', username);
  await page.fill('#f-password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit].primary')]);
}

export interface BrowserSchool {
  t: TestApp;
  /** Where the app listens on a real port. */
  url: string;
  browser: Browser;
}

/**
 * A browser test file's school: the app on a real port over its own database, and one Chromium.
 * `demo` fills it as `npm start` does (the shipped courses, then the demo school); `prepare` adds
 * what the file needs before the first page. Filled in beforeAll, closed in afterAll.
 */
export function browserSchool(opts: { env?: Record<string, string>; demo?: boolean; prepare?: (t: TestApp) => Promise<void> } = {}): BrowserSchool {
  const school = {} as BrowserSchool;
  beforeAll(async () => {
    school.t = await bootApp(opts.env);
    if (opts.demo) {
      await importShippedCourses(school.t.em(), path.join(school.t.config.dataDir, 'files'), { info: () => undefined, warn: () => undefined });
      await seedDemo(school.t.em());
    }
    await opts.prepare?.(school.t);
    school.url = (await school.t.listen()).url;
    school.browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await school.browser?.close();
    await school.t?.close();
  });
  return school;
}

/** Nothing on the page is wider than the phone. */
export async function expectFitsThePhone(page: Page) {
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.viewport.width);
}
