import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateEvent, formatCode, issueIfEligible, verifyCredential, type PublishedKey } from '../../src/certificates/index.ts';
import { loadSigningKey, signDocument } from '../../src/certificates/signing.ts';
import { post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { arrange, issuerOf, study } from './support.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());

async function downloaded() {
  const s = await arrange(t);
  await study(s.em, s.learnerA1.id, s.lessons);
  const cert = (await issueIfEligible(t.em(), issuerOf(t), s.learnerA1.id, s.course.id))!;
  const shown = formatCode(cert.code);
  const learner = await signIn(t.app, s.learnerA1.username);
  const res = await learner.get(`/certificates/${shown}/credential.json`);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toContain('application/json');
  expect(res.headers['content-disposition']).toContain(`dars-certificate-${shown}.json`);
  const published = await request(t.app).get('/.well-known/dars-certificates.json');
  return { ...s, shown, learner, credential: JSON.parse(res.text) as Record<string, any>, keys: published.body.keys as PublishedKey[] };
}

/** RFC 8785 for what a credential holds (strings, integers, booleans, arrays, objects). */
const jcs = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(jcs).join(',')}]`
    : v && typeof v === 'object'
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${jcs((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const base58 = (s: string) => {
  let n = 0n;
  for (const c of s) n = n * 58n + BigInt(B58.indexOf(c));
  const hex = n.toString(16).padStart(128, '0');
  return Buffer.from(hex, 'hex');
};

/**
 * What a verifier elsewhere does with nothing but the published key and node:crypto, following
 * the eddsa-jcs-2022 cryptosuite: hash the proof options and the credential, check the signature.
 */
function checkOffline(credential: Record<string, any>, key: PublishedKey): boolean {
  const { proof, ...document } = credential;
  const { proofValue, ...options } = proof;
  const sha = (s: string) => createHash('sha256').update(s).digest();
  const data = Buffer.concat([sha(jcs({ ...options, '@context': document['@context'] })), sha(jcs(document))]);
  return verify(null, data, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.x }, format: 'jwk' }), base58(proofValue.slice(1)));
}

describe('the signed credential', () => {
  it('when a learner downloads their credential, then it is an Open Badges 3.0 credential signed by the key the school publishes', async () => {
    const s = await downloaded();
    const c = s.credential;
    expect(c['@context']).toEqual(['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json']);
    expect(c.type).toEqual(['VerifiableCredential', 'OpenBadgeCredential']);
    expect(c.id).toBe(`${t.config.APP_ORIGIN}/verify/${s.shown}`);
    expect(c.credentialSubject.identifier[0].identityHash).toBe(s.learnerA1.displayName);
    expect(c.credentialSubject.achievement).toMatchObject({ name: 'Greek A1: first steps', achievementType: 'Course' });
    expect(c.issuer).toMatchObject({ name: s.programmeA.name, id: s.keys[0]!.controller });
    expect(c.proof).toMatchObject({ type: 'DataIntegrityProof', cryptosuite: 'eddsa-jcs-2022', proofPurpose: 'assertionMethod' });
    // Nothing of the learner beyond the name they chose.
    expect(JSON.stringify(c)).not.toContain(s.learnerA1.username);

    expect(s.keys).toHaveLength(1);
    expect(verifyCredential(c, s.keys)).toEqual({ valid: true, kid: s.keys[0]!.kid, verificationMethod: c.proof.verificationMethod });
    expect(checkOffline(c, s.keys[0]!)).toBe(true);
  });

  it('when anything in a credential is changed, then its signature no longer verifies', async () => {
    const s = await downloaded();
    const tampered: [string, (c: Record<string, any>) => void][] = [
      ['name', (c) => (c.credentialSubject.identifier[0].identityHash = 'Someone Else')],
      ['course', (c) => (c.credentialSubject.achievement.name = 'Greek C2: mastery')],
      ['hours', (c) => (c.credentialSubject.achievement.tag[1] = '200 study hours')],
      ['date', (c) => (c.validFrom = '2020-01-01T00:00:00Z')],
      ['signing time', (c) => (c.proof.created = '2020-01-01T00:00:00Z')],
      ['an added claim', (c) => (c.credentialSubject.grade = 'A+')],
    ];
    for (const [what, change] of tampered) {
      const copy = structuredClone(s.credential);
      change(copy);
      expect(verifyCredential(copy, s.keys), what).toEqual({ valid: false, reason: 'bad-signature' });
      expect(checkOffline(copy, s.keys[0]!), what).toBe(false);
    }
    const cut = structuredClone(s.credential);
    cut.proof.proofValue = cut.proof.proofValue.slice(0, -4);
    expect(verifyCredential(cut, s.keys).valid).toBe(false);
  });

  it('when someone signs a changed credential with a key of their own, then it is valid only by that key, never by the school’s', async () => {
    const s = await downloaded();
    const forger = loadSigningKey({ dataDir: mkdtempSync(path.join(tmpdir(), 'forger-')) });
    const forged = structuredClone(s.credential);
    forged.credentialSubject.achievement.name = 'Greek C2: mastery';
    const signed = signDocument(forged, forger, new Date());
    expect(verifyCredential(signed)).toMatchObject({ valid: true });
    expect(verifyCredential(signed, s.keys)).toEqual({ valid: false, reason: 'untrusted-key' });
  });

  it('when the learner corrects the name printed on it, then the credential is signed again with the new name and the change is audited', async () => {
    const s = await downloaded();
    expect((await post(s.learner, `/certificates/${s.shown}/settings`, { printedName: 'Layla Hassan', language: 'en' })).status).toBe(303);
    const renamed = JSON.parse((await s.learner.get(`/certificates/${s.shown}/credential.json`)).text);
    expect(renamed.credentialSubject.identifier[0].identityHash).toBe('Layla Hassan');
    expect(verifyCredential(renamed, s.keys)).toMatchObject({ valid: true });
    expect((await request(t.app).get(`/verify/${s.shown}`)).text).toContain('Layla Hassan');
    const events = await t.em().find(CertificateEvent, { certificate: { code: s.shown.replace(/-/g, '') }, action: 'renamed' });
    expect(events.map((e) => [e.actor?.id, e.detail])).toEqual([[s.learnerA1.id, { from: s.learnerA1.displayName, to: 'Layla Hassan' }]]);
  });
});
