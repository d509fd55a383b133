import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { Grade, Submission, SubmissionFile } from '../../src/assignments/index.ts';
import { browserSchool, expectFitsThePhone, phone, signInAs } from '../support/browser.ts';
import { PASSWORD, makeCohort, makeProgramme, makeUser } from '../support/factories.ts';
import { RUBRIC, makeAssignment, phonePhoto } from './helpers.ts';

const school = browserSchool();

async function submitAndWait(page: Page, selector: string) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

describe('handing in and grading on a phone', () => {
  it('when learner1 hands in a photo and a text, then teacher1 grades it with a rubric and releases it, and learner1 reads the feedback', async () => {
    const em = school.t.em();
    const teacher = await makeUser(em, 'teacher', { username: 'teacher1', displayName: 'Eleni Teacher' });
    const learner = await makeUser(em, 'learner', { username: 'learner1', displayName: 'Amina Learner' });
    const cohort = await makeCohort(em, await makeProgramme(em), { teachers: [teacher], learners: [learner], name: 'Greek A1 — evening class' });
    const assignment = await makeAssignment(em, teacher, [cohort], { title: 'My neighbourhood', forms: ['text', 'photo'], rubric: RUBRIC });
    const photo = await phonePhoto('jpeg', 4000, 3000);

    // learner1: from the list of assignments to the assignment, then a photo and a text.
    const learnerPhone = await phone(school.browser);
    const lp = learnerPhone.page;
    await signInAs(lp, school.url, 'learner1', PASSWORD);
    await lp.goto(`${school.url}/assignments`);
    await Promise.all([lp.waitForURL(`${school.url}/assignments/${assignment.id}`), lp.click(`text=My neighbourhood`)]);
    await expectFitsThePhone(lp);
    expect(await lp.getAttribute('#f-photo', 'capture')).toBe('environment');
    await lp.setInputFiles('#f-photo', { name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer: photo });
    await lp.fill('#f-text', 'There is a bakery and a small park near my home.');
    await submitAndWait(lp, 'button[value=submit]');
    // What was handed in is on the page (the one-time notice above it is not checked: any request
    // of the same session in flight at that moment, such as the school.browser's favicon, may take it).
    expect(await lp.textContent('.version h3')).toBe('Version 1');
    expect(await lp.textContent('main')).toContain('There is a bakery and a small park near my home.');
    const submission = await school.t.em().findOneOrFail(Submission, { assignment: assignment.id, learner: learner.id });
    const file = await school.t.em().findOneOrFail(SubmissionFile, { submission: submission.id, version: { $ne: null } });
    expect(file.originalBytes).toBe(photo.length);
    expect(Math.max(file.width!, file.height!)).toBeLessThanOrEqual(1600);
    // The learner sees the size that was kept beside the size their phone sent.
    expect(await lp.textContent('.version .files')).toMatch(/IMG_0001\.jpg · Photo · [\d.,]+ kB · sent \u2068?[\d.,]+ (kB|MB)/);
    await expectFitsThePhone(lp);

    // teacher1: the queue, the grading page with the photo inline, the rubric, release.
    const teacherPhone = await phone(school.browser);
    const tp = teacherPhone.page;
    await signInAs(tp, school.url, 'teacher1', PASSWORD);
    await tp.goto(`${school.url}/assignments`);
    await Promise.all([tp.waitForURL(`${school.url}/submissions/${submission.id}`), tp.click(`a[href="/submissions/${submission.id}"]`)]);
    expect(await tp.textContent('h1')).toContain('Amina Learner');
    expect(await tp.textContent('main')).toContain('There is a bakery and a small park near my home.');
    const shown = tp.locator(`img[src="/assignments/files/${file.id}?inline=1"]`);
    await shown.scrollIntoViewIfNeeded();
    await expect.poll(() => shown.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
    expect((await shown.boundingBox())!.width).toBeLessThanOrEqual(360);
    await tp.check('input[name=level_c1][value=l2]');
    await tp.check('input[name=level_c2][value=l1]');
    await tp.fill('#f-feedback', 'Lovely details about the bakery. Check the spelling of "neighbour".');
    await tp.check('input[name=release]');
    await expectFitsThePhone(tp);
    await submitAndWait(tp, '#grade-form button[type=submit]');
    expect(await tp.textContent('main .tag')).toBe('Released');
    const grade = await school.t.em().findOneOrFail(Grade, { submission: submission.id });
    expect(grade.score).toBe(4);
    expect(grade.releasedAt).not.toBeNull();

    // learner1: the feedback is there, with the rubric levels.
    await lp.goto(`${school.url}/`);
    expect(await lp.textContent('main')).toContain('New feedback on 1 assignment');
    await lp.goto(`${school.url}/assignments/${assignment.id}`);
    const feedback = lp.locator('#feedback');
    expect(await feedback.textContent()).toContain('4 of 7 points');
    expect(await feedback.textContent()).toContain('Lovely details about the bakery. Check the spelling of "neighbour".');
    expect(await feedback.textContent()).toContain('Rich');
    expect(await feedback.textContent()).toContain('Many mistakes');
    await expectFitsThePhone(lp);
    await lp.screenshot({ path: 'test-results/assignment-feedback-360.png', fullPage: true });
    await learnerPhone.context.close();
    await teacherPhone.context.close();
  });
});
