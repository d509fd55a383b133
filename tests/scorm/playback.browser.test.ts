import type { IncomingMessage } from 'node:http';
import type { Browser, CDPSession, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScormAttempt } from '../../src/scorm/index.ts';
import { launchChromium, phone, signInAs } from '../support/browser.ts';
import { PASSWORD } from '../support/factories.ts';
import { scorm12Single } from './packages.ts';
import { bootScorm, importOk, scormSchool, type ScormTestApp } from './support.ts';

let t: ScormTestApp;
let s: Awaited<ReturnType<typeof scormSchool>>;
let browser: Browser;
let lessonId: number;
/** The Cookie header of every request the content origin received. */
const cookiesAtContent: (string | undefined)[] = [];
beforeAll(async () => {
  t = await bootScorm();
  s = await scormSchool(t);
  lessonId = await importOk(t, s.teacher, s.place, scorm12Single());
  const { content } = await t.listenBoth();
  content.on('request', (req: IncomingMessage) => cookiesAtContent.push(req.headers.cookie));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await t.close();
});

const attempt = () => t.em().findOne(ScormAttempt, { learner: s.learnerA1.id, item: { package: { lesson: lessonId } } });

/** Waits until the learner's saved attempt satisfies `ok` (commits travel in the background). */
async function savedUntil(ok: (a: ScormAttempt | null) => boolean, timeout = 15_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const a = await attempt();
    if (ok(a)) return a!;
    if (Date.now() > end) throw new Error(`attempt not as expected: ${JSON.stringify(a?.cmi)} exit=${a?.lastExit}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The SCO's frame, inside the player's frame from the content origin. */
async function scoFrame(page: Page): Promise<{ player: Frame; sco: Frame }> {
  const end = Date.now() + 10_000;
  for (;;) {
    const player = page.frames().find((f) => f.url().startsWith(`${t.contentOrigin}/play/`));
    const sco = page.frames().find((f) => f.url().startsWith(`${t.contentOrigin}/p/`));
    if (player && sco) return { player, sco };
    if (Date.now() > end) throw new Error(`no SCO frame: ${page.frames().map((f) => f.url()).join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function question(sco: Frame) {
  await sco.waitForSelector('#question');
  return (await sco.textContent('#question'))!;
}

/** Network conditions through the DevTools protocol, for the page and (out of process) the player's frames. */
async function setOffline(sessions: CDPSession[], offline: boolean) {
  for (const cdp of sessions) {
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  }
}

describe('playing a SCORM lesson in Chromium', () => {
  it('when a learner answers, closes the lesson and comes back, then it resumes at the same question; an answer given offline reaches the school once the network returns', async () => {
    const { context, page } = await phone(browser);
    await signInAs(page, t.appOrigin, s.learnerA1.username, PASSWORD);
    await page.goto(`${t.appOrigin}/scorm/lessons/${lessonId}`);
    let { player, sco } = await scoFrame(page);
    expect(await question(sco)).toBe('How much is 2 + 2?');
    await sco.click('button:text-is("4")');
    expect(await question(sco)).toBe('How much is 3 + 3?');
    await savedUntil((a) => a?.cmi['cmi.core.lesson_location'] === '1');

    // Closing the lesson: the SCO suspends and finishes as the page goes away.
    await page.goto(`${t.appOrigin}/`);
    const suspended = await savedUntil((a) => a?.lastExit === 'suspend');
    expect(suspended.lessonStatus).toBe('incomplete');

    await page.goto(`${t.appOrigin}/scorm/lessons/${lessonId}`);
    ({ player, sco } = await scoFrame(page));
    expect(await sco.evaluate(() => (window.parent as unknown as { API: { LMSGetValue(k: string): string } }).API.LMSGetValue('cmi.core.entry'))).toBe('resume');
    expect(await question(sco)).toBe('How much is 3 + 3?');

    // The network drops; the learner answers anyway.
    const sessions = [await context.newCDPSession(page)];
    // The content origin is another site: Chromium may run its frames in a process of their own.
    for (const frame of [player, sco]) sessions.push(await context.newCDPSession(frame).catch(() => null as never));
    const live = sessions.filter(Boolean);
    await setOffline(live, true);
    await sco.click('button:text-is("6")');
    expect(await question(sco)).toBe('How much is 5 + 1?');
    await player.waitForSelector('#dars-status:not([hidden])');
    expect(await player.textContent('#dars-status')).toMatch(/offline|saved on this phone/i);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await attempt())!.cmi['cmi.core.lesson_location']).toBe('1');

    await setOffline(live, false);
    const delivered = await savedUntil((a) => a?.cmi['cmi.core.lesson_location'] === '2');
    expect(JSON.parse(delivered.cmi['cmi.suspend_data']!)).toEqual([
      { id: 'q1', ok: true },
      { id: 'q2', ok: true },
    ]);
    await player.waitForSelector('#dars-status', { state: 'hidden' });
    await context.close();

  });

  it('when the learner finishes offline and closes the lesson before the network returns, then the next launch sends what was left and the lesson is passed', async () => {
    const { context, page } = await phone(browser);
    await signInAs(page, t.appOrigin, s.learnerA1.username, PASSWORD);
    await page.goto(`${t.appOrigin}/scorm/lessons/${lessonId}`);
    const { player, sco } = await scoFrame(page);
    expect(await question(sco)).toBe('How much is 5 + 1?');
    const sessions = [await context.newCDPSession(page)];
    for (const frame of [player, sco]) sessions.push(await context.newCDPSession(frame).catch(() => null as never));
    const live = sessions.filter(Boolean);
    await setOffline(live, true);
    await sco.click('button:text-is("6")');
    expect(await question(sco)).toBe('Finished: 3/3');
    // Leaving while offline: the final commit (and its beacon) cannot leave the phone.
    await page.goto('about:blank');
    await new Promise((r) => setTimeout(r, 500));
    expect((await attempt())!.lessonStatus).toBe('incomplete');

    // The player's frames went away with the page; the page's own session brings the network back.
    await setOffline([sessions[0]!], false);
    await page.goto(`${t.appOrigin}/scorm/lessons/${lessonId}`);
    const done = await savedUntil((a) => a?.lessonStatus === 'passed');
    expect(done.cmi['cmi.core.lesson_location']).toBe('3');
    expect(done.scoreRaw).toBe(100);
    await context.close();
  });

  it('when everything above was played, then no request to the content origin carried a cookie of the school', () => {
    expect(cookiesAtContent.length).toBeGreaterThan(10);
    expect(cookiesAtContent.filter(Boolean)).toEqual([]);
  });
});
