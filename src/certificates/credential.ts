/**
 * The certificate as an Open Badges 3.0 credential (a W3C Verifiable Credential 2.0): what it
 * certifies in the shape other systems read, signed by the school's key (signing.ts). The
 * credential is in English: it is read by systems and employers' tools; the printable page and
 * the PDF are in the learner's language.
 */
import { formatCode } from './code.ts';
import type { CertificateRequirements } from './eligibility.ts';
import type { Json, SigningKey } from './signing.ts';

export interface CertificateFacts {
  code: string;
  printedName: string;
  courseTitle: string;
  courseSlug: string;
  level: string;
  subject: string;
  studyHours: number;
  programmeName: string;
  edition: number;
  issuedAt: Date;
}

export function verificationUrl(publicUrl: string, code: string) {
  return `${publicUrl.replace(/\/+$/, '')}/verify/${formatCode(code)}`;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function criteria(r: CertificateRequirements): string {
  const parts = ['Every lesson of the course completed'];
  if (r.minQuizScore !== null) parts.push(`an average quiz score of at least ${r.minQuizScore}%`);
  if (r.minAssignmentScore !== null) parts.push(`an average assignment grade of at least ${r.minAssignmentScore}%`);
  return parts.length === 1 ? `${parts[0]}.` : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}.`;
}

/** The credential before it is signed. `requirements` null: issued by hand by a coordinator. */
export function unsignedCredential(f: CertificateFacts, publicUrl: string, key: SigningKey, requirements: CertificateRequirements | null): Record<string, Json> {
  const hours = `${f.studyHours} study hour${f.studyHours === 1 ? '' : 's'}`;
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json'],
    id: verificationUrl(publicUrl, f.code),
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    name: `${f.courseTitle}: certificate of completion`,
    // The issuer is named by the signing key itself, so the credential says who vouches for it
    // without depending on the school's web site staying up.
    issuer: { id: key.published.controller, type: ['Profile'], name: f.programmeName, url: publicUrl.replace(/\/+$/, '') + '/' },
    validFrom: iso(f.issuedAt),
    credentialSubject: {
      type: ['AchievementSubject'],
      identifier: [{ type: 'IdentityObject', identityType: 'name', hashed: false, identityHash: f.printedName }],
      activityEndDate: iso(f.issuedAt),
      achievement: {
        id: `urn:dars:course:${f.courseSlug}:edition:${f.edition}`,
        type: ['Achievement'],
        achievementType: 'Course',
        name: f.courseTitle,
        description: `The course "${f.courseTitle}" (level ${f.level}, ${hours}) of the programme ${f.programmeName}.`,
        criteria: { narrative: requirements ? criteria(requirements) : 'Completion confirmed by a coordinator of the programme.' },
        fieldOfStudy: f.subject,
        tag: [f.level, hours],
      },
    },
  };
}

/** The name a credential is issued to. */
export function credentialName(credential: Record<string, Json>): string | undefined {
  const subject = credential.credentialSubject as { identifier?: { identityHash?: string }[] } | undefined;
  return subject?.identifier?.[0]?.identityHash;
}

/** The same credential issued to another spelling of the learner's name (signed again by the caller). */
export function renamedCredential(credential: Record<string, Json>, printedName: string): Record<string, Json> {
  const { proof: _proof, ...unsigned } = credential;
  const subject = unsigned.credentialSubject as Record<string, Json>;
  return { ...unsigned, credentialSubject: { ...subject, identifier: [{ type: 'IdentityObject', identityType: 'name', hashed: false, identityHash: printedName }] } };
}
