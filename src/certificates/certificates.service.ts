/**
 * Issuing, revoking and reading certificates. Issuing is idempotent: the database holds at most
 * one valid certificate per learner, course and edition (a partial unique index), so two requests
 * racing to issue the same one end with one certificate, and the loser is handed the winner's.
 * Every issue, revocation and change of name is written with its audit event in one transaction.
 */
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/index.ts';
import { CohortCourse, Course, CourseCompletion, coursesOfCohort } from '../courses/index.ts';
import type { Actor } from '../platform/actor.ts';
import { InvalidInput, NotFound } from '../platform/errors.ts';
import { isLanguage } from '../platform/i18n.ts';
import { Enrolment, cohortsOfLearner, type Programme } from '../programmes/index.ts';
import { Certificate, CertificateEvent, CertificateSigningKey, type CertificateAction } from './certificate.entity.ts';
import { certificatesManagedBy, certificatesVisibleTo, enrolmentsIssuableBy } from './certificates.policy.ts';
import { newVerificationCode } from './code.ts';
import { renamedCredential, unsignedCredential, verificationUrl } from './credential.ts';
import { eligibility, requirementsFor, type AssignmentPercents, type CertificateRequirements, type Eligibility } from './eligibility.ts';
import { unprintable } from './pdf-text.ts';
import { publishX, signDocument, type PublishedKey, type SigningKey } from './signing.ts';

/** What issuing needs besides the database: the key, the address printed on certificates, and where assignment results come from. */
export interface CertificateIssuer {
  key: SigningKey;
  publicUrl: string;
  assignmentPercents: AssignmentPercents;
}

/**
 * A name as a certificate prints it: bidi overrides and other invisible controls removed (they
 * could make a name read differently from what is stored), but the zero-width (non-)joiners kept,
 * which Persian and Arabic names need.
 */
export function cleanName(name: string): string {
  return name
    .replace(/[\p{Cc}\p{Cf}]/gu, (c) => (c === '\u200c' || c === '\u200d' ? c : ''))
    .replace(/\s+/g, ' ')
    .trim();
}

/** A learner may correct the name on a certificate a few times; each change is audited. */
export const MAX_RENAMES = 3;

// ---- issuing --------------------------------------------------------------------------------------

interface IssueInput {
  learner: User;
  course: Course;
  programme: Programme;
  requirements: CertificateRequirements;
  /** Null: issued by Dars on completion; otherwise the coordinator who issued it by hand. */
  issuedBy: number | null;
  reason: string | null;
  now: Date;
}

async function registerKey(em: EntityManager, key: SigningKey, now: Date) {
  await em.execute(`INSERT INTO certificate_signing_keys (kid, x, first_used_at) VALUES (?, ?, ?) ON CONFLICT (kid) DO NOTHING`, [key.published.kid, key.published.x, now]);
}

function validCertificate(em: EntityManager, learnerId: number, courseId: number, edition: number) {
  return em.fork().findOne(Certificate, { learner: learnerId, course: courseId, edition, revokedAt: null });
}

async function issue(em: EntityManager, issuer: CertificateIssuer, input: IssueInput): Promise<{ certificate: Certificate; created: boolean }> {
  const { learner, course, programme, requirements, now } = input;
  // A clash of random codes is a one-in-10¹⁸ event; a few tries make it impossible in practice.
  for (let attempt = 0; attempt < 3; attempt++) {
    const code = newVerificationCode();
    const facts = {
      code,
      printedName: cleanName(learner.displayName) || learner.username,
      courseTitle: course.title,
      courseSlug: course.slug,
      level: course.level,
      subject: course.subject,
      studyHours: course.studyHours,
      programmeName: programme.name,
      edition: requirements.edition,
      issuedAt: now,
    };
    const credential = signDocument(unsignedCredential(facts, issuer.publicUrl, issuer.key, input.issuedBy === null ? requirements : null), issuer.key, now);
    try {
      const certificate = await em.transactional(async (tx) => {
        await registerKey(tx, issuer.key, now);
        const { courseSlug: _slug, subject: _subject, ...stored } = facts;
        const cert = tx.create(Certificate, {
          ...stored,
          learner: learner.id,
          course: course.id,
          programme: programme.id,
          language: isLanguage(learner.language) ? learner.language : 'en',
          credential,
          issuedBy: input.issuedBy,
          revokedAt: null,
          renameCount: 0,
        });
        tx.create(CertificateEvent, { certificate: cert, action: 'issued', actor: input.issuedBy, reason: input.reason, detail: { code }, at: now });
        return cert;
      });
      return { certificate, created: true };
    } catch (err) {
      if (!(err instanceof UniqueConstraintViolationException)) throw err;
      const existing = await validCertificate(em, learner.id, course.id, requirements.edition);
      if (existing) return { certificate: existing, created: false };
    }
  }
  throw new Error('Could not find an unused verification code.');
}

/** The programme a learner studies a course in: the first of their cohorts the course is offered to. */
async function programmeOfStudy(em: EntityManager, learnerId: number, courseId: number) {
  const offer = await em.findOne(
    CohortCourse,
    { course: courseId, cohort: { enrolments: { learner: learnerId, status: { $in: ['active', 'completed'] } } } },
    { populate: ['cohort.programme'], orderBy: { cohort: { id: 'asc' } } },
  );
  return offer?.cohort.getEntity().programme.getEntity() ?? null;
}

/**
 * Issues the learner's certificate for a course when they have met its rule and hold none for
 * the current edition (a revoked one included: revoking is not undone by studying on). Safe to
 * call as often as anything happens; returns the certificate issued now, or null.
 */
export async function issueIfEligible(em: EntityManager, issuer: CertificateIssuer, learnerId: number, courseId: number, now = new Date()): Promise<Certificate | null> {
  const requirements = await requirementsFor(em, courseId);
  if (await em.count(Certificate, { learner: learnerId, course: courseId, edition: requirements.edition })) return null;
  const result = await eligibility(em, learnerId, courseId, requirements, issuer.assignmentPercents);
  if (!result.eligible) return null;
  const programme = await programmeOfStudy(em, learnerId, courseId);
  const learner = await em.findOne(User, { id: learnerId, role: 'learner' });
  const course = await em.findOne(Course, courseId);
  if (!programme || !learner || !course) return null;
  const { certificate, created } = await issue(em, issuer, { learner, course, programme, requirements, issuedBy: null, reason: null, now });
  return created ? certificate : null;
}

/**
 * Catches up on courses the learner completed without a certificate yet (a rule lowered since,
 * an assignment graded later): called when they look at their certificates.
 */
export async function issueOwed(em: EntityManager, issuer: CertificateIssuer, learnerId: number) {
  const completions = await em.find(CourseCompletion, { learner: learnerId }, { fields: ['course'] });
  const courseIds = completions.map((c) => c.course.id);
  if (!courseIds.length) return;
  const held = new Set((await em.find(Certificate, { learner: learnerId, course: { $in: courseIds } }, { fields: ['course'] })).map((c) => c.course.id));
  for (const courseId of courseIds) if (!held.has(courseId)) await issueIfEligible(em, issuer, learnerId, courseId);
}

export interface ManualIssueInput {
  username: string;
  courseId: number;
  reason: string;
}

/**
 * A coordinator issues a certificate by hand (work done on paper, a course finished elsewhere),
 * for a learner of one of their cohorts. When the learner already holds a valid one for the
 * current edition, that one is returned and nothing is written.
 */
export async function issueByHand(em: EntityManager, issuer: CertificateIssuer, actor: Actor, input: ManualIssueInput, now = new Date()) {
  const learner = await em.findOne(User, { username: input.username.toLowerCase(), role: 'learner' });
  if (!learner) throw new InvalidInput({ username: { key: 'certificates:errors.noSuchLearner' } });
  const enrolment = await em.findOne(Enrolment, { $and: [{ learner: learner.id }, enrolmentsIssuableBy(actor)] }, { populate: ['cohort.programme'], orderBy: { cohort: { id: 'asc' } } });
  if (!enrolment) throw new InvalidInput({ username: { key: 'certificates:errors.notYourLearner' } });
  const course = await em.findOne(Course, input.courseId);
  if (!course) throw new InvalidInput({ courseId: { key: 'validation:choose' } });
  const requirements = await requirementsFor(em, course.id);
  return issue(em, issuer, { learner, course, programme: enrolment.cohort.getEntity().programme.getEntity(), requirements, issuedBy: actor.id, reason: input.reason, now });
}

// ---- changing a certificate ---------------------------------------------------------------------

async function managedCertificate(em: EntityManager, actor: Actor, code: string) {
  const cert = await em.findOne(Certificate, { $and: [{ code }, certificatesManagedBy(actor)] });
  if (!cert) throw new NotFound();
  return cert;
}

/** Revokes a certificate; revoking one already revoked changes nothing. */
export async function revoke(em: EntityManager, actor: Actor, code: string, reason: string, now = new Date()) {
  const cert = await managedCertificate(em, actor, code);
  await em.transactional(async (tx) => {
    // Only the request that flips it writes the event: a doubled request revokes once.
    const changed = await tx.nativeUpdate(Certificate, { id: cert.id, revokedAt: null }, { revokedAt: now });
    if (changed) tx.create(CertificateEvent, { certificate: cert.id, action: 'revoked', actor: actor.id, reason, detail: null, at: now });
  });
}

export interface CertificateSettings {
  printedName: string;
  language: string;
}

/**
 * The learner chooses the name printed on their certificate and its language. A new name is
 * signed anew (the credential names them) and audited; the language only changes how it prints.
 */
export async function updateSettings(em: EntityManager, issuer: CertificateIssuer, actor: Actor, code: string, input: CertificateSettings, now = new Date()) {
  if (cleanName(input.printedName) !== input.printedName.replace(/\s+/g, ' ')) throw new InvalidInput({ printedName: { key: 'validation:badCharacters' } });
  input = { ...input, printedName: cleanName(input.printedName) };
  const missing = unprintable(input.printedName);
  if (missing.length) throw new InvalidInput({ printedName: { key: 'certificates:errors.unprintable', vars: { characters: missing.join(' ') } } });
  await em.transactional(async (tx) => {
    const cert = await tx.findOne(Certificate, { code, learner: actor.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!cert) throw new NotFound();
    if (cert.revokedAt) throw new InvalidInput({ printedName: { key: 'certificates:errors.revoked' } });
    cert.language = input.language;
    if (input.printedName === cert.printedName) return;
    if (cert.renameCount >= MAX_RENAMES) throw new InvalidInput({ printedName: { key: 'certificates:errors.tooManyRenames', vars: { count: MAX_RENAMES } } });
    await registerKey(tx, issuer.key, now);
    tx.create(CertificateEvent, { certificate: cert, action: 'renamed', actor: actor.id, reason: null, detail: { from: cert.printedName, to: input.printedName }, at: now });
    cert.printedName = input.printedName;
    cert.renameCount += 1;
    cert.credential = signDocument(renamedCredential(cert.credential, input.printedName), issuer.key, now);
  });
}

// ---- reading --------------------------------------------------------------------------------------

export interface CertificateSummary {
  code: string;
  printedName: string;
  courseTitle: string;
  level: string;
  studyHours: number;
  programmeName: string;
  edition: number;
  language: string;
  issuedAt: Date;
  revokedAt: Date | null;
  verifyUrl: string;
}

export function summary(cert: Certificate, publicUrl: string): CertificateSummary {
  return {
    code: cert.code,
    printedName: cert.printedName,
    courseTitle: cert.courseTitle,
    level: cert.level,
    studyHours: cert.studyHours,
    programmeName: cert.programmeName,
    edition: cert.edition,
    language: cert.language,
    issuedAt: cert.issuedAt,
    revokedAt: cert.revokedAt ?? null,
    verifyUrl: verificationUrl(publicUrl, cert.code),
  };
}

export async function certificatesOfLearner(em: EntityManager, learnerId: number) {
  return em.find(Certificate, { learner: learnerId }, { orderBy: { issuedAt: 'desc', id: 'desc' } });
}

/** A certificate the actor may open (their own, or one of a programme they run); 404 otherwise. */
export async function certificateFor(em: EntityManager, actor: Actor, code: string) {
  const cert = await em.findOne(Certificate, { $and: [{ code }, certificatesVisibleTo(actor)] }, { populate: ['learner'] });
  if (!cert) throw new NotFound();
  return cert;
}

/** Anyone's view: the certificate when it exists, nothing when it does not. */
export async function certificateByCode(em: EntityManager, code: string) {
  return em.findOne(Certificate, { code });
}

export interface AuditEntry {
  action: CertificateAction;
  at: Date;
  actor: string | null;
  reason: string | null;
  detail: Record<string, string | number> | null;
}

export async function auditTrail(em: EntityManager, cert: Certificate): Promise<AuditEntry[]> {
  const events = await em.find(CertificateEvent, { certificate: cert.id }, { populate: ['actor'], orderBy: { id: 'asc' } });
  return events.map((e) => ({ action: e.action, at: e.at, actor: e.actor?.getEntity().displayName ?? null, reason: e.reason ?? null, detail: e.detail ?? null }));
}

export const PAGE_SIZE = 50;

/** Certificates of the programmes the actor runs, newest first. */
export async function managedCertificates(em: EntityManager, actor: Actor, page: number) {
  const [certs, total] = await em.findAndCount(Certificate, certificatesManagedBy(actor), {
    populate: ['learner'],
    orderBy: { issuedAt: 'desc', id: 'desc' },
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
  });
  return { certs, total };
}

export interface CourseProgress {
  courseId: number;
  courseTitle: string;
  eligibility: Eligibility;
}

/**
 * What "My certificates" shows: every certificate the learner holds, after issuing any they have
 * earned (courses are complete by the same rule wherever the learner looks), and how far they
 * are in the other courses of their classes.
 */
export async function learnerCertificates(em: EntityManager, issuer: CertificateIssuer, learnerId: number) {
  await issueOwed(em, issuer, learnerId);
  let progress = await progressTowardCertificates(em, issuer, learnerId);
  const earned = progress.filter((p) => p.eligibility.eligible);
  // Complete by the rule but with no completion recorded (a lesson retired since, say): issued now.
  for (const p of earned) await issueIfEligible(em, issuer, learnerId, p.courseId);
  if (earned.length) progress = await progressTowardCertificates(em, issuer, learnerId);
  return { held: await certificatesOfLearner(em, learnerId), progress };
}

/** Courses offered to the learner's classes that they hold no valid certificate for, and how far they are. */
export async function progressTowardCertificates(em: EntityManager, issuer: CertificateIssuer, learnerId: number): Promise<CourseProgress[]> {
  const cohorts = await cohortsOfLearner(em, learnerId);
  const courses = new Map<number, string>();
  for (const cohort of cohorts) for (const c of await coursesOfCohort(em, cohort.id)) courses.set(c.id, c.title);
  if (!courses.size) return [];
  // A certificate of the course's current edition, valid or revoked, ends the way toward one.
  const held = new Set((await em.find(Certificate, { learner: learnerId, course: { $in: [...courses.keys()] } }, { fields: ['course', 'edition'] })).map((c) => `${c.course.id}:${c.edition}`));
  const out: CourseProgress[] = [];
  for (const [courseId, courseTitle] of courses) {
    const requirements = await requirementsFor(em, courseId);
    if (held.has(`${courseId}:${requirements.edition}`)) continue;
    out.push({ courseId, courseTitle, eligibility: await eligibility(em, learnerId, courseId, requirements, issuer.assignmentPercents) });
  }
  return out;
}

/** Every key that signed a certificate here, the current one first. */
export async function publishedKeys(em: EntityManager, issuer: CertificateIssuer): Promise<PublishedKey[]> {
  const rows = await em.find(CertificateSigningKey, {}, { orderBy: { id: 'asc' } });
  const current = issuer.key.published;
  return [current, ...rows.filter((r) => r.kid !== current.kid).map((r) => publishX(r.x))];
}
