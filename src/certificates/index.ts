/**
 * certificates — proof that a learner completed a course, which anyone can check.
 *
 * Words: a *certificate* says that a learner (by the *printed name* they chose) completed a
 * course (its title, level and study hours) in a programme, on an *issue date*; its *verification
 * code* (12 characters, `7KQ2-M9XD-4TWA`) opens its public *verification page*. A course's
 * *certificate rule* adds a lowest *quiz average* and *assignment average* to "every lesson done",
 * and numbers the course's *edition*: one valid certificate per learner, course and edition.
 * A coordinator may *issue by hand* or *revoke*, always with a reason; each of these, and each
 * change of printed name, is an *event* in the append-only audit trail. Every certificate is also
 * a signed *credential* (Open Badges 3.0, proof `eddsa-jcs-2022`) checkable offline against the
 * school's *public key*, published at /.well-known/dars-certificates.json.
 */
export {
  Certificate,
  CertificateRule,
  CertificateEvent,
  CertificateSigningKey,
  CertificateSchema,
  CertificateRuleSchema,
  CertificateEventSchema,
  CertificateSigningKeySchema,
} from './certificate.entity.ts';
export { certificatesRoutes } from './certificates.routes.ts';
export { certificatesHomeSection } from './certificates.home.ts';
export { certificateIssuer } from './issuer.ts';
export { issueIfEligible, type CertificateIssuer } from './certificates.service.ts';
export { certificateCapabilities, certificatesVisibleTo } from './certificates.policy.ts';
export type { AssignmentPercents } from './eligibility.ts';
export { verifyCredential, canonicalJson, type PublishedKey, type VerifyResult } from './signing.ts';
export { parseCode, formatCode } from './code.ts';
export { releasedAssignmentPercents } from './assignment-scores.ts';
