import { defineEntity, p } from '@mikro-orm/core';
import { User } from '../accounts/index.ts';
import { Lesson } from '../courses/index.ts';

export const SCORM_VERSIONS = ['1.2', '2004'] as const;
export const COMPLETION_STATUSES = ['not attempted', 'incomplete', 'completed', 'unknown'] as const;
export const SUCCESS_STATUSES = ['unknown', 'passed', 'failed'] as const;
export type CompletionStatus = (typeof COMPLETION_STATUSES)[number];
export type SuccessStatus = (typeof SUCCESS_STATUSES)[number];

/** One imported package, played as one lesson. Its files sit in DATA_DIR/scorm/<contentId>. */
const ScormPackageSchema = defineEntity({
  name: 'ScormPackage',
  tableName: 'scorm_packages',
  properties: {
    id: p.integer().primary().autoincrement(),
    lesson: () => p.manyToOne(Lesson).ref().unique().deleteRule('cascade'),
    /** sha256 of the uploaded zip: the folder name, never the uploader's file name. */
    contentId: p.string().length(64),
    version: p.enum(SCORM_VERSIONS),
    /** As the manifest says it, e.g. "2004 4th Edition". */
    schemaVersion: p.string().length(60),
    title: p.string().length(200),
    zipBytes: p.integer(),
    unpackedBytes: p.bigint('number'),
    fileCount: p.integer(),
    importedBy: () => p.manyToOne(User).nullable().ref().deleteRule('set null'),
    importedAt: p.datetime().onCreate(() => new Date()),
    items: () => p.oneToMany(ScormItem).mappedBy('package'),
  },
});
export class ScormPackage extends ScormPackageSchema.class {}
ScormPackageSchema.setClass(ScormPackage);

/** One item of the package's organisation, in manifest order: a SCO, an asset, or a heading grouping others. */
const ScormItemSchema = defineEntity({
  name: 'ScormItem',
  tableName: 'scorm_items',
  uniques: [{ properties: ['package', 'identifier'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    package: () => p.manyToOne(ScormPackage).ref().deleteRule('cascade'),
    identifier: p.string().length(255),
    position: p.integer(),
    depth: p.integer(),
    title: p.string().length(200),
    visible: p.boolean(),
    /** null: a heading, nothing to launch. */
    resourceType: p.enum(['sco', 'asset'] as const).nullable(),
    launchUrl: p.text().nullable(),
    masteryScore: p.double().$type<number>().runtimeType('number').nullable(),
    maxTimeAllowed: p.string().length(40).nullable(),
    timeLimitAction: p.string().length(40).nullable(),
    dataFromLms: p.text().nullable(),
    completionThreshold: p.double().$type<number>().runtimeType('number').nullable(),
    scaledPassingScore: p.double().$type<number>().runtimeType('number').nullable(),
    prerequisites: p.text().nullable(),
  },
});
export class ScormItem extends ScormItemSchema.class {}
ScormItemSchema.setClass(ScormItem);

/**
 * A learner's attempt on one SCO: the learner data the SCO wrote (`cmi`, dotted element names) and
 * what it means (status, score, time). The newest commit wins: (lastSessionId, lastSeq) orders them.
 */
const ScormAttemptSchema = defineEntity({
  name: 'ScormAttempt',
  tableName: 'scorm_attempts',
  uniques: [{ properties: ['item', 'learner', 'number'] }],
  indexes: [{ properties: ['learner', 'item'] }],
  checks: [{ name: 'scorm_attempts_counts_check', expression: '(number >= 1) AND (last_seq >= 0)' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    item: () => p.manyToOne(ScormItem).ref().deleteRule('cascade'),
    learner: () => p.manyToOne(User).ref().deleteRule('cascade'),
    number: p.integer(),
    cmi: p.json<Record<string, string>>(),
    /** SCORM 1.2 cmi.core.lesson_status as recorded (after the mastery score is applied). */
    lessonStatus: p.string().length(20).nullable(),
    completionStatus: p.enum(COMPLETION_STATUSES).default('not attempted'),
    successStatus: p.enum(SUCCESS_STATUSES).default('unknown'),
    scoreScaled: p.double().$type<number>().runtimeType('number').nullable(),
    scoreRaw: p.double().$type<number>().runtimeType('number').nullable(),
    scoreMin: p.double().$type<number>().runtimeType('number').nullable(),
    scoreMax: p.double().$type<number>().runtimeType('number').nullable(),
    totalSeconds: p.double().$type<number>().runtimeType('number').default(0),
    /** cmi.exit of the newest commit: "suspend" means the next launch resumes. */
    lastExit: p.string().length(20).nullable(),
    /** The SCO terminated without suspending: the next launch starts a new attempt (where the version says so). */
    ended: p.boolean().default(false),
    lastSessionId: p.integer().nullable(),
    lastSeq: p.integer().default(0),
    startedAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()),
  },
});
export class ScormAttempt extends ScormAttemptSchema.class {}
ScormAttemptSchema.setClass(ScormAttempt);

/** One sitting: from a launch until the player closes. Its session_time adds up to the attempt's total time. */
const ScormSessionSchema = defineEntity({
  name: 'ScormSession',
  tableName: 'scorm_sessions',
  properties: {
    id: p.integer().primary().autoincrement(),
    attempt: () => p.manyToOne(ScormAttempt).ref().index().deleteRule('cascade'),
    startedAt: p.datetime().onCreate(() => new Date()),
    lastSeq: p.integer().default(0),
    seconds: p.double().$type<number>().runtimeType('number').default(0),
    terminated: p.boolean().default(false),
    lastCommitAt: p.datetime().nullable(),
  },
});
export class ScormSession extends ScormSessionSchema.class {}
ScormSessionSchema.setClass(ScormSession);

/**
 * Every commit received, once: (session, seq) is unique, so a commit the player sends again (a
 * retry after a lost answer, the beacon of a closing page) is recognised and changes nothing.
 */
const ScormCommitSchema = defineEntity({
  name: 'ScormCommit',
  tableName: 'scorm_commits',
  uniques: [{ properties: ['session', 'seq'] }],
  checks: [{ name: 'scorm_commits_seq_check', expression: 'seq > 0' }],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    session: () => p.manyToOne(ScormSession).ref().deleteRule('cascade'),
    seq: p.integer(),
    final: p.boolean(),
    /** false: it arrived after a newer one and was only recorded. */
    applied: p.boolean(),
    bytes: p.integer(),
    receivedAt: p.datetime().onCreate(() => new Date()),
  },
});
export class ScormCommit extends ScormCommitSchema.class {}
ScormCommitSchema.setClass(ScormCommit);

export { ScormPackageSchema, ScormItemSchema, ScormAttemptSchema, ScormSessionSchema, ScormCommitSchema };
