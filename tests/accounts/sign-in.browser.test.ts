import { describe, expect, it } from 'vitest';
import { browserSchool, expectFitsThePhone, phone, signInAs } from '../support/browser.ts';
import { PASSWORD, makeCohort, makeProgramme, makeUser } from '../support/factories.ts';

const school = browserSchool();

describe('signing in on a phone', () => {
  it('when learner1 chooses Arabic and signs in, then the home page is Arabic, right-to-left and fits the screen', async () => {
    const em = school.t.em();
    const learner = await makeUser(em, 'learner', { username: 'learner1', displayName: 'أمينة يوسف' });
    await makeCohort(em, await makeProgramme(em), { learners: [learner], name: 'Greek A1 — evening class' });
    const { context, page } = await phone(school.browser);
    await page.goto(`${school.url}/login`);
    await page.selectOption('#lng', 'ar');
    await Promise.all([page.waitForLoadState('load'), page.click('form.lang button')]);
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    expect(await page.getAttribute('html', 'lang')).toBe('ar');
    await signInAs(page, school.url, 'learner1', PASSWORD);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    expect(await page.textContent('h1')).toContain('أمينة يوسف');
    expect(await page.textContent('h1')).not.toContain('Hello');
    expect(await page.textContent('main')).toContain('Greek A1 — evening class');
    // The header starts at the right edge in RTL: the brand sits right of the menu.
    const brand = (await page.locator('.brand').boundingBox())!;
    const nav = (await page.locator('.top nav').boundingBox())!;
    expect(brand.x).toBeGreaterThan(nav.x);
    // Nothing is wider than the phone.
    await expectFitsThePhone(page);
    await page.screenshot({ path: 'test-results/home-ar-360.png', fullPage: true });
    await context.close();
  });
});
