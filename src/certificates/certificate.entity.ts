import { defineEntity, p } from '@mikro-orm/core';
import { User } from '../accounts/index.ts';
import { Course } from '../courses/index.ts';
import { Programme } from '../programmes/index.ts';
import type { SignedDocument } from './signing.ts';

/**
 * What a course asks for a certificate beyond every lesson done, set by coordinators. The
 * *edition* is the course's version as certificates count it: a learner holds one certificate
 * per course edition, and starting a new edition (after the course changed) lets those who
 * complete it again earn a new one.
 */
const CertificateRuleSchema = defineEntity({
  name: 'CertificateRule',
  tableName: 'certificate_rules',
  properties: {
    id: p.integer().primary().autoincrement(),
    course: () => p.manyToOne(Course).ref().unique(),
    /** Percent; the average of the learner's best score on each quiz of the course. */
    minQuizScore: p.integer().nullable(),
    /** Percent; the average of the learner's released assignment grades in the course. */
    minAssignmentScore: p.integer().nullable(),
    edition: p.integer().default(1),
    updatedBy: () => p.manyToOne(User).nullable().ref().deleteRule('set null'),
    updatedAt: p.datetime(),
  },
});
export class CertificateRule extends CertificateRuleSchema.class {}
CertificateRuleSchema.setClass(CertificateRule);

/**
 * One certificate. What it certifies is copied in when it is issued (the course may be renamed
 * later; the certificate keeps saying what was achieved) and signed as `credential`. At most one
 * valid (unrevoked) certificate per learner, course and edition: a doubled request cannot make two.
 */
const CertificateSchema = defineEntity({
  name: 'Certificate',
  tableName: 'certificates',
  uniques: [{ name: 'certificates_valid_per_edition_unique', properties: ['learner', 'course', 'edition'], where: 'revoked_at is null' }],
  indexes: [{ properties: ['learner', 'course'] }, { properties: ['programme', 'issuedAt'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    /** Crockford base32, 12 characters, stored without dashes. */
    code: p.string().length(12).unique(),
    learner: () => p.manyToOne(User).ref(),
    course: () => p.manyToOne(Course).ref(),
    edition: p.integer(),
    programme: () => p.manyToOne(Programme).ref(),
    /** The learner's name as they want it printed. */
    printedName: p.string().length(120),
    courseTitle: p.string().length(200),
    level: p.string().length(20),
    studyHours: p.integer(),
    programmeName: p.string().length(160),
    /** Language of the printable page and the PDF, one of the school's languages. */
    language: p.string().length(8),
    /** The signed Open Badges 3.0 credential, proof included. */
    credential: p.json<SignedDocument>(),
    issuedAt: p.datetime(),
    /** Null when Dars issued it because the course was completed. */
    issuedBy: () => p.manyToOne(User).nullable().ref().deleteRule('set null'),
    revokedAt: p.datetime().nullable(),
    renameCount: p.integer().default(0),
  },
});
export class Certificate extends CertificateSchema.class {}
CertificateSchema.setClass(Certificate);

export const CERTIFICATE_ACTIONS = ['issued', 'revoked', 'renamed'] as const;
export type CertificateAction = (typeof CERTIFICATE_ACTIONS)[number];

/**
 * The audit trail: who issued, revoked or renamed a certificate, when and why. Append-only: the
 * database refuses UPDATE, DELETE and TRUNCATE on this table.
 */
const CertificateEventSchema = defineEntity({
  name: 'CertificateEvent',
  tableName: 'certificate_events',
  // Declared here so schema diffs know it and never drop it. TRUNCATE is refused by a statement
  // trigger in the migration, which schema diffs cannot see.
  triggers: [
    {
      name: 'certificate_events_no_change',
      timing: 'before',
      events: ['update', 'delete'],
      forEach: 'row',
      body: "raise exception 'certificate_events is append-only: % is refused', tg_op using errcode = 'restrict_violation';",
    },
  ],
  properties: {
    id: p.integer().primary().autoincrement(),
    certificate: () => p.manyToOne(Certificate).ref().index(),
    action: p.enum(CERTIFICATE_ACTIONS),
    /** Null when Dars acted by itself (issuing on completion). */
    actor: () => p.manyToOne(User).nullable().ref().deleteRule('set null'),
    reason: p.text().nullable(),
    detail: p.json<Record<string, string | number>>().nullable(),
    at: p.datetime(),
  },
});
export class CertificateEvent extends CertificateEventSchema.class {}
CertificateEventSchema.setClass(CertificateEvent);

/** Every public key that ever signed a certificate, so old certificates stay checkable after a key change. */
const CertificateSigningKeySchema = defineEntity({
  name: 'CertificateSigningKey',
  tableName: 'certificate_signing_keys',
  properties: {
    id: p.integer().primary().autoincrement(),
    kid: p.string().length(64).unique(),
    x: p.string().length(64),
    firstUsedAt: p.datetime(),
  },
});
export class CertificateSigningKey extends CertificateSigningKeySchema.class {}
CertificateSigningKeySchema.setClass(CertificateSigningKey);

export { CertificateRuleSchema, CertificateSchema, CertificateEventSchema, CertificateSigningKeySchema };
