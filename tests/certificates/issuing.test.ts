import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Certificate, CertificateEvent, issueIfEligible } from '../../src/certificates/index.ts';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { arrange, issuerOf, study } from './support.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());

describe('issuing a certificate once', () => {
  it('when a learner completes a course, then one certificate is issued with what it certifies', async () => {
    const s = await arrange(t);
    const issuer = issuerOf(t);
    await study(s.em, s.learnerA1.id, s.lessons);
    const cert = await issueIfEligible(t.em(), issuer, s.learnerA1.id, s.course.id);
    expect(cert).not.toBeNull();
    const stored = await t.em().findOneOrFail(Certificate, { learner: s.learnerA1.id });
    expect(stored).toMatchObject({ printedName: s.learnerA1.displayName, courseTitle: 'Greek A1: first steps', level: 'A1', studyHours: 2, programmeName: s.programmeA.name, edition: 1, revokedAt: null });
    expect(stored.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{12}$/);
    expect(await issueIfEligible(t.em(), issuer, s.learnerA1.id, s.course.id)).toBeNull();
    expect(await t.em().count(Certificate, { learner: s.learnerA1.id })).toBe(1);
  });

  it('when the issuing runs twice at the same moment, then there is still one certificate and one audit entry', async () => {
    const s = await arrange(t);
    const issuer = issuerOf(t);
    await study(s.em, s.learnerA1.id, s.lessons);
    const results = await Promise.all([1, 2, 3, 4].map(() => issueIfEligible(t.em(), issuer, s.learnerA1.id, s.course.id)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await t.em().count(Certificate, { learner: s.learnerA1.id })).toBe(1);
    expect(await t.em().count(CertificateEvent, { certificate: { learner: s.learnerA1.id }, action: 'issued' })).toBe(1);
  });

  it('when a coordinator sends the same "issue by hand" form twice at once, then one certificate is issued, with their reason', async () => {
    const s = await arrange(t);
    const coordinator = await signIn(t.app, s.coordinatorA.username);
    const form = { username: s.learnerA2.username, courseId: String(s.course.id), reason: 'Completed the course on paper at the Athens site.' };
    const [a, b] = await Promise.all([post(coordinator, '/certificates/manage', form), post(coordinator, '/certificates/manage', form)]);
    expect([a.status, b.status]).toEqual([303, 303]);
    expect(a.headers.location).toBe(b.headers.location);
    const certs = await t.em().find(Certificate, { learner: s.learnerA2.id });
    expect(certs).toHaveLength(1);
    const events = await t.em().find(CertificateEvent, { certificate: certs[0]!.id });
    expect(events.map((e) => [e.action, e.actor?.id, e.reason])).toEqual([['issued', s.coordinatorA.id, form.reason]]);
    const page = await coordinator.get(a.headers.location!);
    expect(page.text).toContain(form.reason);
  });

  it('when the audit trail is changed or emptied in the database, then the database refuses', async () => {
    const s = await arrange(t);
    await study(s.em, s.learnerA1.id, s.lessons);
    await issueIfEligible(t.em(), issuerOf(t), s.learnerA1.id, s.course.id);
    await expect(t.em().execute(`UPDATE certificate_events SET reason = 'rewritten'`)).rejects.toThrow(/append-only/);
    await expect(t.em().execute(`DELETE FROM certificate_events`)).rejects.toThrow(/append-only/);
    await expect(t.em().execute(`TRUNCATE certificate_events CASCADE`)).rejects.toThrow(/append-only/);
  });
});
