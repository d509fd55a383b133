/** Charts on a 360×640 phone, in English and in Arabic (right to left), with JavaScript off. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, type TestApp } from '../support/app.ts';
import { launchChromium, phone, signInAs } from '../support/browser.ts';
import { PASSWORD } from '../support/factories.ts';
import { RANGE, TARGET_ENV, makeReportWorld } from './world.ts';

let t: TestApp;
let url: string;
let browser: Browser;
let w: Awaited<ReturnType<typeof makeReportWorld>>;
const shots = path.resolve('test-results', 'reports');

beforeAll(async () => {
  t = await bootApp(TARGET_ENV);
  w = await makeReportWorld(t.em());
  url = (await t.listen()).url;
  browser = await launchChromium();
  mkdirSync(shots, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await t.close();
});

/** Pixels of a screenshot close to a colour: proof that bars were painted, not a blank box. */
async function pixelsNear(png: Buffer, [r, g, b]: [number, number, number]): Promise<number> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < data.length; i += info.channels) if (Math.abs(data[i]! - r) < 30 && Math.abs(data[i + 1]! - g) < 30 && Math.abs(data[i + 2]! - b) < 30) n++;
  return n;
}

describe('report charts in a phone browser', () => {
  for (const locale of ['en', 'ar'] as const) {
    it(`when a coordinator opens the study-hours report in ${locale}, then the charts fit the screen, bars are painted and each has its data table`, async () => {
      const { context, page } = await phone(browser, { locale, javaScriptEnabled: false });
      await signInAs(page, url, w.coordinatorA.username, PASSWORD);
      await page.goto(`${url}/reports/hours?${RANGE}&by=sex`);
      expect(await page.getAttribute('html', 'dir')).toBe(locale === 'ar' ? 'rtl' : 'ltr');

      const charts = page.locator('svg.chart');
      expect(await charts.count()).toBe(2);
      const first = charts.first();
      await first.scrollIntoViewIfNeeded();
      expect(await first.isVisible()).toBe(true);
      const box = (await first.boundingBox())!;
      expect(box.width).toBeGreaterThan(250);
      expect(box.x + box.width).toBeLessThanOrEqual(360);
      // Nothing makes the page wider than the phone.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

      // Each chart is named for screen readers and sits beside a table of its figures.
      expect(await first.getAttribute('role')).toBe('img');
      expect(await page.locator('figure.chart-figure table').count()).toBe(2);
      expect(await page.locator('figure.chart-figure').first().locator('tbody tr').count()).toBe(3);

      // Bars grow along the reading direction: from the left in English, from the right in Arabic.
      const bar = await page.locator('svg.chart').first().locator('rect.s0').last().evaluate((r: SVGRectElement) => ({ x: r.x.baseVal.value, w: r.width.baseVal.value }));
      expect(bar.w).toBeGreaterThan(0);
      if (locale === 'ar') expect(bar.x + bar.w).toBeCloseTo(320, 0);
      else expect(bar.x).toBe(0);

      const png = await first.screenshot({ path: path.join(shots, `hours-${locale}.png`) });
      expect(await pixelsNear(png, [0x0b, 0x5f, 0xb3])).toBeGreaterThan(200);
      await page.screenshot({ path: path.join(shots, `hours-${locale}-page.png`), fullPage: true });
      await context.close();
    }, 60_000);
  }

  it('when the enrolment report is opened in Arabic, then its line chart draws both series', async () => {
    const { context, page } = await phone(browser, { locale: 'ar', javaScriptEnabled: false });
    await signInAs(page, url, w.coordinatorA.username, PASSWORD);
    await page.goto(`${url}/reports/enrolment?${RANGE}`);
    const lines = page.locator('svg.chart polyline');
    expect(await lines.count()).toBe(2);
    const png = await page.locator('svg.chart').first().screenshot({ path: path.join(shots, 'enrolment-ar.png') });
    expect(await pixelsNear(png, [0x0b, 0x5f, 0xb3])).toBeGreaterThan(50);
    await context.close();
  }, 60_000);
});
