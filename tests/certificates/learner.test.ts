import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Certificate, CertificateEvent, formatCode, issueIfEligible } from '../../src/certificates/index.ts';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { arrange, issuerOf, study } from './support.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());

async function holder() {
  const s = await arrange(t);
  await study(s.em, s.learnerA1.id, s.lessons);
  const cert = (await issueIfEligible(t.em(), issuerOf(t), s.learnerA1.id, s.course.id))!;
  return { ...s, cert, shown: formatCode(cert.code) };
}

describe('a learner’s certificates', () => {
  it('when a learner finishes a course and opens the home page, then their certificate is there, with downloads and a link to share in "My certificates"', async () => {
    const s = await arrange(t);
    await study(s.em, s.learnerA1.id, s.lessons);
    const learner = await signIn(t.app, s.learnerA1.username);
    const home = await learner.get('/');
    expect(home.text).toContain('You have 1 certificate.');
    const [cert] = await t.em().find(Certificate, { learner: s.learnerA1.id });
    const shown = formatCode(cert!.code);
    expect(home.text).toContain(`href="/certificates/${shown}"`);

    const mine = await learner.get('/certificates');
    expect(mine.text).toContain(`href="/certificates/${shown}/pdf"`);
    expect(mine.text).toContain(`href="/certificates/${shown}/credential.json"`);
    expect(mine.text).toContain(`${t.config.APP_ORIGIN}/verify/${shown}`);
    expect(mine.text).toContain('<a href="/certificates">My certificates</a>');
    // Looking again issues nothing more.
    await learner.get('/');
    await learner.get('/certificates');
    expect(await t.em().count(Certificate, { learner: s.learnerA1.id })).toBe(1);
  });

  it('when the learner opens "My certificates" on two tabs at the same moment, then one certificate is issued', async () => {
    const s = await arrange(t);
    await study(s.em, s.learnerA1.id, s.lessons);
    const learner = await signIn(t.app, s.learnerA1.username);
    const pages = await Promise.all([learner.get('/certificates'), learner.get('/certificates'), learner.get('/')]);
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200]);
    expect(await t.em().count(Certificate, { learner: s.learnerA1.id })).toBe(1);
    expect(await t.em().count(CertificateEvent, { certificate: { learner: s.learnerA1.id } })).toBe(1);
  });

  it('when a learner writes a name with hidden direction marks or letters the certificate cannot print, then the form says so, keeps it, and nothing changes', async () => {
    const s = await holder();
    const learner = await signIn(t.app, s.learnerA1.username);
    const hidden = await post(learner, `/certificates/${s.shown}/settings`, { printedName: 'Layla \u202eHassan', language: 'en' });
    expect(hidden.status).toBe(422);
    expect(hidden.text).toContain('This contains characters that cannot be used here.');
    const chinese = await post(learner, `/certificates/${s.shown}/settings`, { printedName: '王小明', language: 'en' });
    expect(chinese.status).toBe(422);
    expect(chinese.text).toContain('The certificate cannot print these characters: 王 小 明.');
    expect(chinese.text).toContain('value="王小明"');
    const language = await post(learner, `/certificates/${s.shown}/settings`, { printedName: 'Layla', language: 'xx' });
    expect(language.status).toBe(422);
    expect(language.text).toContain('Please choose one of the options.');
    const stored = await t.em().findOneOrFail(Certificate, s.cert.id);
    expect([stored.printedName, stored.language, stored.renameCount]).toEqual([s.learnerA1.displayName, 'en', 0]);
    expect(await t.em().count(CertificateEvent, { certificate: s.cert.id, action: 'renamed' })).toBe(0);
  });

  it('when the name was changed three times, then it can no longer be changed, while the language still can', async () => {
    const s = await holder();
    const learner = await signIn(t.app, s.learnerA1.username);
    for (const name of ['Layla H.', 'Layla Hasan', 'Layla Hassan']) expect((await post(learner, `/certificates/${s.shown}/settings`, { printedName: name, language: 'en' })).status).toBe(303);
    const fourth = await post(learner, `/certificates/${s.shown}/settings`, { printedName: 'L. Hassan', language: 'en' });
    expect(fourth.status).toBe(422);
    expect(fourth.text).toContain('has already been changed 3 times');
    expect(fourth.text).toContain('<bdi>Layla Hassan</bdi>');
    expect(fourth.text).not.toContain('L. Hassan');
    expect((await post(learner, `/certificates/${s.shown}/settings`, { printedName: 'Layla Hassan', language: 'uk' })).status).toBe(303);
    const page = await learner.get(`/certificates/${s.shown}`);
    expect(page.text).toContain('Сертифікат про завершення');
    expect(page.text).toContain('The name can no longer be changed.');
    expect(await t.em().count(CertificateEvent, { certificate: s.cert.id, action: 'renamed' })).toBe(3);
  });

  it('when another learner, a teacher or a coordinator of another programme asks for a certificate, then it is not found; its coordinator and an admin see it with its history', async () => {
    const s = await holder();
    for (const who of [s.learnerA2, s.learnerB1, s.teacherA, s.coordinatorB]) {
      const agent = await signIn(t.app, who.username);
      for (const url of [`/certificates/${s.shown}`, `/certificates/${s.shown}/pdf`, `/certificates/${s.shown}/credential.json`]) {
        expect([403, 404], `${who.username} ${url}`).toContain((await agent.get(url)).status);
      }
      expect([403, 404]).toContain((await post(agent, `/certificates/${s.shown}/settings`, { printedName: 'Stolen', language: 'en' })).status);
      expect((await agent.get('/certificates/manage')).text ?? '').not.toContain(s.shown);
    }
    expect((await t.em().findOneOrFail(Certificate, s.cert.id)).printedName).toBe(s.learnerA1.displayName);

    for (const who of [s.coordinatorA, s.admin]) {
      const agent = await signIn(t.app, who.username);
      const page = await agent.get(`/certificates/${s.shown}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('Dars (course completed)');
      expect(page.text).not.toContain('/settings"');
      expect((await agent.get('/certificates/manage')).text).toContain(s.shown);
    }
  });
});

describe('issuing by hand', () => {
  it('when a coordinator names someone who is not their learner, or gives no reason, then the form says why, keeps the input, and nothing is issued', async () => {
    const s = await arrange(t);
    const coordinator = await signIn(t.app, s.coordinatorA.username);
    const other = await post(coordinator, '/certificates/manage', { username: s.learnerB1.username, courseId: String(s.course.id), reason: 'Paper exam.' });
    expect(other.status).toBe(422);
    expect(other.text).toContain('This learner is not in one of your classes.');
    expect(other.text).toContain(`value="${s.learnerB1.username}"`);
    expect(other.text).toContain('Paper exam.');
    const nobody = await post(coordinator, '/certificates/manage', { username: 'no-such-learner', courseId: String(s.course.id), reason: 'Paper exam.' });
    expect(nobody.text).toContain('There is no learner with this username.');
    const noReason = await post(coordinator, '/certificates/manage', { username: s.learnerA1.username, courseId: String(s.course.id), reason: '  ' });
    expect(noReason.status).toBe(422);
    expect(noReason.text).toContain('Please fill this in.');
    expect(await t.em().count(Certificate, { learner: { $in: [s.learnerA1.id, s.learnerB1.id] } })).toBe(0);
  });
});
