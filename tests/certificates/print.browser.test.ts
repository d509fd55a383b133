import { describe, expect, it } from 'vitest';
import { User } from '../../src/accounts/index.ts';
import { formatCode, issueIfEligible } from '../../src/certificates/index.ts';
import { browserSchool, expectFitsThePhone, phone, signInAs } from '../support/browser.ts';
import { PASSWORD } from '../support/factories.ts';
import { arrange, issuerOf, study } from './support.ts';

const school = browserSchool();

describe('the printable certificate on a phone', () => {
  it('when a learner chooses Arabic for their certificate, then the page reads right to left, fits 360 px, and prints only the certificate', async () => {
    const s = await arrange(school.t);
    await school.t.em().nativeUpdate(User, { id: s.learnerA1.id }, { displayName: 'أمينة يوسف' });
    await study(s.em, s.learnerA1.id, s.lessons);
    const code = formatCode((await issueIfEligible(school.t.em(), issuerOf(school.t), s.learnerA1.id, s.course.id))!.code);
    const { context, page } = await phone(school.browser);
    await signInAs(page, school.url, s.learnerA1.username, PASSWORD);
    await page.goto(`${school.url}/certificates/${code}`);
    await page.selectOption('#f-language', 'ar');
    await Promise.all([page.waitForURL(`${school.url}/certificates/${code}`), page.click('form[action$="/settings"] button')]);

    const article = page.locator('article.certificate');
    expect(await article.getAttribute('dir')).toBe('rtl');
    expect(await article.locator('h1').textContent()).toBe('شهادة إتمام');
    expect(await article.locator('.cert-name').textContent()).toBe('أمينة يوسف');
    await expectFitsThePhone(page);
    // Right to left: the QR code sits at the right, its words to its left.
    const qr = (await article.locator('svg.qr').boundingBox())!;
    const words = (await article.locator('.cert-check p').boundingBox())!;
    expect(qr.x).toBeGreaterThan(words.x);
    await page.screenshot({ path: 'test-results/certificate-ar-360.png', fullPage: true });

    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.no-print').isVisible()).toBe(false);
    expect(await page.locator('header.top, .top').first().isVisible()).toBe(false);
    expect(await article.isVisible()).toBe(true);
    await context.close();
  });
});
