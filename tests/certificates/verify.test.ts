import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { User } from '../../src/accounts/index.ts';
import { Certificate, CertificateEvent, formatCode, issueIfEligible } from '../../src/certificates/index.ts';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeCourse, offerCourse } from '../support/factories.ts';
import { arrange, issuerOf, study } from './support.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());

/** A learner with personal details on record, holding a certificate for the course and studying another. */
async function holder() {
  const s = await arrange(t);
  const phone = `+3069${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  await t.em().nativeUpdate(User, { id: s.learnerA1.id }, { displayName: 'Layla Hassan (Athens)', phone, nationality: 'SY', birthYear: 1998, sex: 'female' });
  await study(s.em, s.learnerA1.id, s.lessons);
  const cert = (await issueIfEligible(t.em(), issuerOf(t), s.learnerA1.id, s.course.id))!;
  await t.em().nativeUpdate(Certificate, { id: cert.id }, { printedName: 'Layla Hassan' });
  const other = await makeCourse(s.em, { title: 'Soft skills: a job interview' });
  await offerCourse(s.em, s.cohortA, other);
  return { ...s, cert, phone, shown: formatCode(cert.code) };
}

describe('the public verification page', () => {
  it('when anyone opens a valid certificate’s page, then it says valid and what it certifies, and nothing else about the learner', async () => {
    const s = await holder();
    const res = await request(t.app).get(`/verify/${s.shown}`);
    expect(res.status).toBe(200);
    expect(res.headers['x-robots-tag']).toContain('noindex');
    expect(res.text).toContain('This certificate is valid.');
    for (const fact of ['Layla Hassan', 'Greek A1: first steps', 'A1', s.programmeA.name, s.shown]) expect(res.text).toContain(fact);
    for (const secret of [s.learnerA1.username, 'Athens', s.phone, s.phone.slice(3), 'SY', '1998', 'female', 'Soft skills', s.cohortA.name]) {
      expect(res.text, secret).not.toContain(secret);
    }
  });

  it('when the code is typed in lower case with look-alike letters or without dashes, then the same certificate is found', async () => {
    const s = await holder();
    const typed = s.cert.code.toLowerCase().replace(/0/g, 'o').replace(/1/g, 'l');
    const res = await request(t.app).get(`/verify/${typed}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('This certificate is valid.');
    const form = await request(t.app).get('/verify').query({ code: ` ${s.cert.code} ` });
    expect(form.status).toBe(303);
    expect(form.headers.location).toBe(`/verify/${s.shown}`);
  });

  it('when a code names no certificate or cannot be a code, then the page says so and nothing more', async () => {
    const unknown = await request(t.app).get('/verify/7KQ2-M9XD-4TWA');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain('No certificate has this code.');
    expect((await request(t.app).get('/verify/not-a-code')).status).toBe(404);
    const typo = await request(t.app).get('/verify').query({ code: '12345' });
    expect(typo.status).toBe(422);
    expect(typo.text).toContain('A code has 12 letters and digits');
    expect(typo.text).toContain('value="12345"');
  });

  it('when a coordinator revokes a certificate with a reason, then its page says revoked, the trail keeps who and why, and it can no longer be downloaded', async () => {
    const s = await holder();
    const coordinator = await signIn(t.app, s.coordinatorA.username);
    const noReason = await post(coordinator, `/certificates/${s.shown}/revoke`, { reason: '' });
    expect(noReason.status).toBe(422);
    expect(noReason.text).toContain('Please fill this in.');
    expect((await t.em().findOneOrFail(Certificate, s.cert.id)).revokedAt).toBeNull();

    const reason = 'Issued to the wrong learner.';
    const res = await post(coordinator, `/certificates/${s.shown}/revoke`, { reason });
    expect(res.status).toBe(303);
    const page = await request(t.app).get(`/verify/${s.shown}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('This certificate was revoked on');
    expect(page.text).not.toContain('This certificate is valid.');
    expect(page.text).not.toContain(reason);

    const events = await t.em().find(CertificateEvent, { certificate: s.cert.id }, { orderBy: { id: 'asc' } });
    expect(events.map((e) => [e.action, e.actor?.id ?? null, e.reason ?? null])).toEqual([
      ['issued', null, null],
      ['revoked', s.coordinatorA.id, reason],
    ]);
    expect((await coordinator.get(`/certificates/${s.shown}`)).text).toContain(reason);
    const learner = await signIn(t.app, s.learnerA1.username);
    expect((await learner.get(`/certificates/${s.shown}`)).text).toContain('This certificate was revoked on');
    expect((await learner.get(`/certificates/${s.shown}/pdf`)).status).toBe(410);
    expect((await learner.get(`/certificates/${s.shown}/credential.json`)).status).toBe(410);
  });

  it('when a coordinator of another programme, a teacher or another learner tries to revoke it, then it is not found and it stays valid', async () => {
    const s = await holder();
    for (const who of [s.coordinatorB, s.teacherA, s.learnerA2, s.learnerA1]) {
      const agent = await signIn(t.app, who.username);
      expect([403, 404], who.username).toContain((await post(agent, `/certificates/${s.shown}/revoke`, { reason: 'No.' })).status);
    }
    expect((await t.em().findOneOrFail(Certificate, s.cert.id)).revokedAt).toBeNull();
    expect(await t.em().count(CertificateEvent, { certificate: s.cert.id, action: 'revoked' })).toBe(0);
  });
});

describe('checking by trying codes', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await bootApp({ VERIFY_RATE_PER_IP: '3' });
  });
  afterAll(() => limited.close());

  it('when one address checks more codes than allowed, then it is told to wait, and known codes are not answered either', async () => {
    const s = await arrange(limited);
    await study(s.em, s.learnerA1.id, s.lessons);
    const cert = (await issueIfEligible(limited.em(), issuerOf(limited), s.learnerA1.id, s.course.id))!;
    const tries = ['7KQ2-M9XD-4TWA', '7KQ2-M9XD-4TWB', '7KQ2-M9XD-4TWC'];
    for (const code of tries) expect((await request(limited.app).get(`/verify/${code}`)).status).toBe(404);
    const blocked = await request(limited.app).get(`/verify/${formatCode(cert.code)}`);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.text).toMatch(/Too many checks from your connection\. Please try again in \d+ minutes?\./);
    expect(blocked.text).not.toContain(s.learnerA1.displayName);
  });
});
