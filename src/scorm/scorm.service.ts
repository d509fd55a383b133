/**
 * SCORM lessons: importing a package into a course, launching a SCO for a learner, receiving the
 * runtime's commits, and what teachers see. Services take an EntityManager and never see req/res.
 */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { User } from '../accounts/index.ts';
import { completeLesson, Course, coursesFollowedBy, Lesson, createScormLesson, lessonForLearner, lessonForStaff, recordQuizResult, unitsOfCourse } from '../courses/index.ts';
import type { Actor } from '../platform/actor.ts';
import { Forbidden, InvalidInput, NotFound } from '../platform/errors.ts';
import { runPrepared, statement, type Statement } from '../platform/prepared.ts';
import { checkCommit, formatTimespan, timespanSeconds, type ElementProblem, type ScormVersion } from './data-model.ts';
import { parseManifest, TITLE_MAX } from './manifest.ts';
import { MANIFEST_MAX_BYTES, MAX_ENTRIES, openPackageArchive, PackageProblem, sha256Of } from './package-archive.ts';
import { prerequisitesMet, parsePrerequisites } from './prerequisites.ts';
import { learnersFollowedBy, mayImportInto } from './scorm.policy.ts';
import { ScormAttempt, ScormItem, ScormPackage, ScormSession, type CompletionStatus, type SuccessStatus } from './scorm.entity.ts';

/** DATA_DIR/scorm: one folder per package, named by the sha256 of its zip. */
export function packagesDir(dataDir: string) {
  return path.join(dataDir, 'scorm');
}

export function packageDir(dataDir: string, contentId: string) {
  if (!/^[0-9a-f]{64}$/.test(contentId)) throw new NotFound();
  return path.join(packagesDir(dataDir), contentId);
}

// ---------------------------------------------------------------------------------------------
// Import

export interface ImportInput {
  courseId: number;
  unitId: number;
  title?: string;
  /** The uploaded zip, already on disk (multer's temporary file). */
  file: { path: string; size: number };
}

export interface ImportLimits {
  dataDir: string;
  maxZipBytes: number;
}

/**
 * Checks the package completely, unpacks it into a temporary folder beside its final place and
 * renames it there in one step, then records the lesson. A refused or failed import leaves no
 * folder and no row behind. A package already stored (same bytes) is not unpacked again.
 */
export async function importPackage(em: EntityManager, actor: Actor, input: ImportInput, limits: ImportLimits): Promise<ScormPackage> {
  if (!(await mayImportInto(em, actor, input.courseId))) throw new NotFound();
  const units = await unitsOfCourse(em, input.courseId);
  if (!units.some((u) => u.id === input.unitId)) throw new InvalidInput({ place: { key: 'validation:choose' } });

  const archive = await openPackageArchive(input.file.path, { maxEntries: MAX_ENTRIES, maxUnpackedBytes: Math.min(limits.maxZipBytes * 5, 2 ** 31 - 1) }).catch(asInvalid);
  const root = packagesDir(limits.dataDir);
  const temp = path.join(root, `.unpacking-${randomBytes(8).toString('hex')}`);
  let created: string | null = null;
  try {
    if (!archive.files.has('imsmanifest.xml')) {
      const nested = [...archive.files].find((f) => f.toLowerCase().endsWith('/imsmanifest.xml'));
      throw new InvalidInput({ file: nested ? { key: 'scorm:problems.manifestInSubfolder', vars: { folder: nested.slice(0, -'/imsmanifest.xml'.length) } } : { key: 'scorm:problems.noManifest' } });
    }
    const manifestBytes = await archive.read('imsmanifest.xml', MANIFEST_MAX_BYTES, new PackageProblem('manifestTooLarge', { max: MANIFEST_MAX_BYTES / (1024 * 1024) }));
    const manifest = parseManifest(manifestBytes, archive.files);
    const contentId = await sha256Of(input.file.path);
    const final = packageDir(limits.dataDir, contentId);
    if (!existsSync(final)) {
      await mkdir(temp, { recursive: true });
      await archive.extractTo(temp);
      try {
        await rename(temp, final);
        created = final;
      } catch (err) {
        // The same package, imported at the same moment by someone else, got there first: use theirs.
        if (!existsSync(final)) throw err;
      }
    }
    const title = input.title ?? manifest.title.slice(0, TITLE_MAX);
    return await em.transactional(async (tx) => {
      const lesson = await createScormLesson(tx, input.courseId, input.unitId, title, `scorm-${randomBytes(5).toString('hex')}`);
      const pkg = tx.create(ScormPackage, {
        lesson: lesson.id,
        contentId,
        version: manifest.version,
        schemaVersion: manifest.schemaVersion,
        title: manifest.title,
        zipBytes: input.file.size,
        unpackedBytes: archive.unpackedBytes,
        fileCount: archive.fileCount,
        importedBy: actor.id,
      });
      for (const [position, item] of manifest.items.entries()) {
        tx.create(ScormItem, { package: pkg, position, ...item });
      }
      await tx.flush();
      return pkg;
    });
  } catch (err) {
    if (created) await rm(created, { recursive: true, force: true });
    throw asInvalid(err);
  } finally {
    archive.close();
    await rm(temp, { recursive: true, force: true });
  }
}

/** A package problem is shown beside the file field, like any other form problem. */
function asInvalid(err: unknown): never {
  if (err instanceof PackageProblem) throw new InvalidInput({ file: { key: `scorm:problems.${err.key}`, vars: err.vars } });
  throw err;
}

// ---------------------------------------------------------------------------------------------
// What an attempt's data means

type Summary = Pick<ScormAttempt, 'lessonStatus' | 'completionStatus' | 'successStatus' | 'scoreScaled' | 'scoreRaw' | 'scoreMin' | 'scoreMax'>;

const num = (v: string | undefined) => (v === undefined || v === '' || !Number.isFinite(Number(v)) ? null : Number(v));

/**
 * Status and score from the learner data, with the LMS's own duties applied: SCORM 1.2 compares
 * the raw score with the manifest's mastery score; SCORM 2004 decides completion by the
 * completion threshold and success by the scaled passing score when the manifest sets them.
 */
export function summarise(version: ScormVersion, cmi: Record<string, string>, item: Pick<ScormItem, 'masteryScore' | 'completionThreshold' | 'scaledPassingScore'>): Summary {
  if (version === '1.2') {
    let status = cmi['cmi.core.lesson_status'] || 'not attempted';
    const raw = num(cmi['cmi.core.score.raw']);
    const min = num(cmi['cmi.core.score.min']);
    const max = num(cmi['cmi.core.score.max']);
    if (item.masteryScore != null && raw !== null && ['completed', 'passed', 'failed'].includes(status)) status = raw >= item.masteryScore ? 'passed' : 'failed';
    const completion: CompletionStatus = ['passed', 'completed', 'failed'].includes(status) ? 'completed' : status === 'not attempted' ? 'not attempted' : 'incomplete';
    const success: SuccessStatus = status === 'passed' ? 'passed' : status === 'failed' ? 'failed' : 'unknown';
    const lo = min ?? 0;
    const hi = max ?? 100;
    const scaled = raw === null ? null : hi > lo ? Math.min(1, Math.max(0, (raw - lo) / (hi - lo))) : null;
    return { lessonStatus: status, completionStatus: completion, successStatus: success, scoreScaled: scaled, scoreRaw: raw, scoreMin: min, scoreMax: max };
  }
  let completion = (cmi['cmi.completion_status'] || 'unknown') as CompletionStatus;
  const progress = num(cmi['cmi.progress_measure']);
  if (item.completionThreshold != null && progress !== null) completion = progress >= item.completionThreshold ? 'completed' : 'incomplete';
  const raw = num(cmi['cmi.score.raw']);
  const min = num(cmi['cmi.score.min']);
  const max = num(cmi['cmi.score.max']);
  let scaled = num(cmi['cmi.score.scaled']);
  if (scaled === null && raw !== null && min !== null && max !== null && max > min) scaled = (raw - min) / (max - min);
  let success = (cmi['cmi.success_status'] || 'unknown') as SuccessStatus;
  if (item.scaledPassingScore != null) success = scaled === null ? 'unknown' : scaled >= item.scaledPassingScore ? 'passed' : 'failed';
  return { lessonStatus: null, completionStatus: completion, successStatus: success, scoreScaled: scaled, scoreRaw: raw, scoreMin: min, scoreMax: max };
}

/** Done, for course progress: completed and not failed. */
export function satisfied(a: Pick<ScormAttempt, 'completionStatus' | 'successStatus'>) {
  return a.completionStatus === 'completed' && a.successStatus !== 'failed';
}

/**
 * Whether the sitting that just terminated ended the attempt. SCORM 2004: any exit but "suspend"
 * does. SCORM 1.2 leaves attempts to the LMS: only a finished part (passed, completed, failed)
 * left without suspending ends; an unfinished one is kept, so a learner whose connection dropped
 * never starts over.
 */
function endsAttempt(version: ScormVersion, exit: string | null, navRequest: string | null, lessonStatus: string | null) {
  if (exit === 'suspend' || navRequest === 'suspendAll') return false;
  return version === '2004' || ['passed', 'completed', 'failed'].includes(lessonStatus ?? '');
}

// ---------------------------------------------------------------------------------------------
// Learners: the lesson page and launching

export interface TocEntry {
  id: number;
  identifier: string;
  title: string;
  depth: number;
  launchable: boolean;
  locked: boolean;
  done: boolean;
  current: boolean;
  status: string;
}

export interface LessonLaunch {
  lesson: { id: number; title: string; courseId: number; courseTitle: string; url: string };
  version: ScormVersion;
  toc: TocEntry[];
  current: TocEntry | null;
  previous: TocEntry | null;
  next: TocEntry | null;
  /** Claims for a launch token, when something can be launched. */
  launch: { attemptId: number; sessionId: number; learnerId: number } | null;
  multi: boolean;
}

async function packageOfLesson(em: EntityManager, lessonId: number) {
  const pkg = await em.findOne(ScormPackage, { lesson: lessonId });
  if (!pkg) throw new NotFound();
  const items = await em.find(ScormItem, { package: pkg }, { orderBy: { position: 'asc' } });
  return { pkg, items };
}

/**
 * The attempt whose status is shown: the newest one the SCO wrote to. A new attempt only opened
 * (after a passed one, say) has nothing to tell yet and would hide the result before it.
 */
function shownAttempt(attempts: ScormAttempt[]) {
  return attempts.findLast((a) => a.lastSeq > 0) ?? attempts.at(-1);
}

/** Status shown for a part: SCORM 1.2's lesson status, or SCORM 2004's completion and success. */
function statusOf(version: ScormVersion, a: ScormAttempt | undefined): string {
  if (!a) return 'not attempted';
  if (version === '1.2') return a.lessonStatus ?? 'not attempted';
  return a.successStatus !== 'unknown' ? a.successStatus : a.completionStatus;
}

/**
 * The learner's lesson page: the table of contents with what they did, and a new sitting on the
 * part they chose (or the first they have not finished). 1.2 prerequisites lock parts until met.
 */
export async function openLesson(em: EntityManager, actor: Actor, lessonId: number, itemId?: number): Promise<LessonLaunch> {
  const lesson = await lessonForLearner(em, actor, lessonId);
  const { pkg, items } = await packageOfLesson(em, lessonId);
  const attempts = await em.find(ScormAttempt, { learner: actor.id, item: { $in: items.map((i) => i.id) } }, { orderBy: { number: 'asc' } });
  const latest = new Map<number, ScormAttempt>();
  const done = new Set<number>();
  for (const a of attempts) {
    if (a.lastSeq > 0 || !latest.has(a.item.id)) latest.set(a.item.id, a);
    if (satisfied(a)) done.add(a.item.id);
  }
  const byIdentifier = new Map(items.map((i) => [i.identifier, i]));
  const lessonStatusOf = (identifier: string) => {
    const item = byIdentifier.get(identifier);
    return item ? statusOf('1.2', latest.get(item.id)) : 'not attempted';
  };
  const toc: TocEntry[] = items
    .filter((i) => i.visible)
    .map((i) => {
      const parsed = pkg.version === '1.2' && i.prerequisites ? parsePrerequisites(i.prerequisites) : null;
      return {
        id: i.id,
        identifier: i.identifier,
        title: i.title,
        depth: i.depth,
        launchable: !!i.launchUrl,
        locked: !!parsed && !prerequisitesMet(parsed, lessonStatusOf),
        done: done.has(i.id),
        current: false,
        status: statusOf(pkg.version, latest.get(i.id)),
      };
    });
  const open = toc.filter((e) => e.launchable && !e.locked);
  let current = itemId === undefined ? (open.find((e) => !e.done) ?? open[0]) : toc.find((e) => e.id === itemId);
  if (itemId !== undefined && (!current || !current.launchable)) throw new NotFound();
  if (current?.locked) throw new Forbidden('scorm:lesson.locked');
  if (current) current.current = true;
  const at = current ? open.indexOf(current) : -1;
  const launch = current ? await startSession(em, actor.id, items.find((i) => i.id === current.id)!, pkg.version) : null;
  return {
    lesson: { id: lesson.id, title: lesson.title, courseId: lesson.courseId, courseTitle: lesson.courseTitle, url: lesson.url },
    version: pkg.version,
    toc,
    current: current ?? null,
    previous: at > 0 ? open[at - 1]! : null,
    next: at >= 0 && at < open.length - 1 ? open[at + 1]! : null,
    launch,
    multi: toc.filter((e) => e.launchable).length > 1,
  };
}

/** Continues the learner's attempt on the part, or begins a new one, and opens a sitting on it. */
async function startSession(em: EntityManager, learnerId: number, item: ScormItem, version: ScormVersion) {
  for (let tries = 0; ; tries++) {
    try {
      return await em.transactional(async (tx) => {
        const latest = await tx.findOne(ScormAttempt, { item, learner: learnerId }, { orderBy: { number: 'desc' } });
        let attempt = latest;
        if (!attempt || attempt.ended) {
          attempt = tx.create(ScormAttempt, { item: item.id, learner: learnerId, number: (latest?.number ?? 0) + 1, cmi: {} });
          // An asset cannot talk to the runtime: opening it is finishing it.
          if (item.resourceType === 'asset') Object.assign(attempt, { completionStatus: 'completed', lessonStatus: version === '1.2' ? 'completed' : null });
        }
        const session = tx.create(ScormSession, { attempt });
        await tx.flush();
        return { attemptId: attempt.id, sessionId: session.id, learnerId };
      });
    } catch (err) {
      // Two launches at once both began attempt n+1; the second now finds it and continues it.
      if (!(err instanceof UniqueConstraintViolationException) || tries > 0) throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The player on the content origin

export interface PlayerLaunch {
  version: ScormVersion;
  packageId: number;
  contentId: string;
  itemId: number;
  title: string;
  learnerId: number;
  launchUrl: string;
  sessionId: number;
  /** Newest commit the server holds for this sitting and for the attempt. */
  sessionSeq: number;
  lastSession: number;
  lastSeq: number;
  /** Learner data to hand back, and the values the LMS sets: both dotted element names. */
  data: Record<string, string>;
  lms: Record<string, string>;
}

/** What the player needs to start, read with the launch token's claims. */
export async function playerLaunch(em: EntityManager, claims: { attemptId: number; sessionId: number; learnerId: number }): Promise<PlayerLaunch | null> {
  const session = await em.findOne(ScormSession, { id: claims.sessionId, attempt: { id: claims.attemptId, learner: claims.learnerId } }, { populate: ['attempt.item.package'] });
  if (!session) return null;
  const attempt = session.attempt.getEntity();
  const item = attempt.item.getEntity();
  const pkg = item.package.getEntity();
  if (!item.launchUrl) return null;
  const learner = await em.findOneOrFail(User, claims.learnerId);
  // A sitting the school never heard close (the phone died, the tab was killed, the last commit is
  // still on the phone) was cut off rather than left: the learner continues it, as after a suspend.
  const lastSessionId = attempt.lastSessionId;
  const lastSitting = lastSessionId === null ? null : await em.findOne(ScormSession, { id: lastSessionId });
  const resume = attempt.lastExit === 'suspend' || (!!lastSitting && !lastSitting.terminated && !attempt.ended);
  const entry = attempt.lastSessionId === null && !attempt.ended && attempt.lastSeq === 0 ? 'ab-initio' : resume ? 'resume' : '';
  const lms: Record<string, string> =
    pkg.version === '1.2'
      ? {
          'cmi.core.student_id': String(learner.id),
          'cmi.core.student_name': learner.displayName.slice(0, 255),
          'cmi.core.credit': 'credit',
          'cmi.core.lesson_mode': 'normal',
          'cmi.core.entry': entry,
          'cmi.core.total_time': formatTimespan('1.2', attempt.totalSeconds),
          'cmi.launch_data': item.dataFromLms ?? '',
          'cmi.student_data.mastery_score': item.masteryScore === null ? '' : String(item.masteryScore),
          'cmi.student_data.max_time_allowed': item.maxTimeAllowed ?? '',
          'cmi.student_data.time_limit_action': item.timeLimitAction ?? '',
        }
      : {
          'cmi.learner_id': String(learner.id),
          'cmi.learner_name': learner.displayName.slice(0, 250),
          'cmi.credit': 'credit',
          'cmi.mode': 'normal',
          'cmi.entry': entry,
          'cmi.total_time': formatTimespan('2004', attempt.totalSeconds),
          'cmi.launch_data': item.dataFromLms ?? '',
          'cmi.completion_threshold': item.completionThreshold === null ? '' : String(item.completionThreshold),
          'cmi.scaled_passing_score': item.scaledPassingScore === null ? '' : String(item.scaledPassingScore),
          'cmi.max_time_allowed': item.maxTimeAllowed ?? '',
          'cmi.time_limit_action': item.timeLimitAction ?? '',
        };
  // Empty means "never set": left out, so the runtime keeps its own defaults.
  const drop = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== '' || k.endsWith('.entry')));
  return {
    version: pkg.version,
    packageId: pkg.id,
    contentId: pkg.contentId,
    itemId: item.id,
    title: item.title,
    learnerId: learner.id,
    launchUrl: item.launchUrl,
    sessionId: session.id,
    sessionSeq: session.lastSeq,
    lastSession: attempt.lastSessionId ?? 0,
    lastSeq: attempt.lastSeq,
    data: drop(attempt.cmi),
    lms: drop(lms),
  };
}

// ---------------------------------------------------------------------------------------------
// Commits

export interface CommitInput {
  session?: number;
  seq: number;
  final?: boolean;
  cmi: unknown;
  adl?: unknown;
}

export type CommitOutcome =
  | { status: 'applied' | 'older' | 'repeated'; navRequest: string | null }
  | { status: 'refused'; reason: 'session' }
  | { status: 'invalid'; problems: ElementProblem[] };

/** What a commit needs to know, read (and locked) by one statement: see receiveCommit. */
interface CommitFacts {
  session_id: number;
  session_seq: number;
  session_seconds: number;
  attempt_id: number;
  last_session_id: number | null;
  last_seq: number;
  resource_type: 'sco' | 'asset' | null;
  mastery_score: number | null;
  completion_threshold: number | null;
  scaled_passing_score: number | null;
  package_id: number;
  version: ScormVersion;
  lesson_id: number;
  /** The learner has the SCORM lesson done already: a commit can only bring a new score then. */
  lesson_done: boolean;
}

/**
 * The token's attempt (the learner's own), its part and package, and the sitting the commit names
 * with that sitting's attempt, both locked. A commit left on the phone from an earlier sitting
 * comes with today's token: the sitting must be the same learner's, on the same part. The sitting
 * is locked before its attempt, as every commit does, so two commits of one attempt queue rather
 * than deadlock.
 */
const COMMIT_FACTS = statement(`SELECT s.id AS session_id, s.last_seq AS session_seq, s.seconds AS session_seconds,
       a.id AS attempt_id, a.last_session_id, a.last_seq,
       i.resource_type, i.mastery_score, i.completion_threshold, i.scaled_passing_score,
       p.id AS package_id, p.version, p.lesson_id,
       EXISTS (SELECT 1 FROM lesson_progress lp WHERE lp.learner_id = $3 AND lp.lesson_id = p.lesson_id AND lp.completed_at IS NOT NULL) AS lesson_done
FROM scorm_attempts t
JOIN scorm_items i ON i.id = t.item_id
JOIN scorm_packages p ON p.id = i.package_id
JOIN scorm_sessions s ON s.id = $1
JOIN scorm_attempts a ON a.id = s.attempt_id AND a.learner_id = t.learner_id AND a.item_id = t.item_id
WHERE t.id = $2 AND t.learner_id = $3
FOR UPDATE OF s, a`);

/**
 * The commit's writes in one statement: the (session, seq) record, then — only if that record is
 * new — the sitting and the attempt. The attempt's time is the sum of its sittings: the others as
 * stored (this statement sees them as committed once the attempt was locked), this one as just
 * computed. Two texts, so the one for an older commit does not carry learner data it will not keep.
 * $1 session, $2 seq, $3 final, $4 applied, $5 bytes, $6–$8 the sitting's seq, seconds and commit
 * time (null: unchanged), $9 attempt.
 */
const COMMIT_RECORD = `WITH rec AS (
  INSERT INTO scorm_commits (session_id, seq, final, applied, bytes, received_at) VALUES ($1, $2, $3, $4, $5, now())
  ON CONFLICT (session_id, seq) DO NOTHING RETURNING id
), sitting AS (
  UPDATE scorm_sessions SET last_seq = $6, seconds = $7, last_commit_at = coalesce($8, last_commit_at), terminated = terminated OR $3
  WHERE id = $1 AND EXISTS (SELECT 1 FROM rec)
)`;
const TOTAL_SECONDS = `total_seconds = (SELECT coalesce(sum(seconds), 0)::float FROM scorm_sessions WHERE attempt_id = $9 AND id <> $1) + $7`;
const COMMIT_OLDER = statement(`${COMMIT_RECORD}, attempt AS (
  UPDATE scorm_attempts SET ${TOTAL_SECONDS} WHERE id = $9 AND EXISTS (SELECT 1 FROM rec)
) SELECT count(*)::int AS recorded FROM rec`);
/**
 * Also $10 the learner data, $11–$17 status and score, $18 exit, $19 ended, $20 the time, and
 * what course progress follows ($21 the learner, $22 the package, $23 whether this attempt is now
 * satisfied): per visible part, whether any attempt satisfied it (see satisfied()) and the score of
 * its latest attempt that has one. The statement sees the attempts as they were before it, so this
 * attempt counts with its new status and score.
 */
const COMMIT_NEWER = statement(`${COMMIT_RECORD}, attempt AS (
  UPDATE scorm_attempts SET cmi = $10::jsonb, lesson_status = $11, completion_status = $12, success_status = $13,
         score_scaled = $14, score_raw = $15, score_min = $16, score_max = $17,
         last_exit = $18, last_session_id = $1, last_seq = $2, ended = $19, updated_at = $20, ${TOTAL_SECONDS}
  WHERE id = $9 AND EXISTS (SELECT 1 FROM rec)
), latest AS (
  SELECT a.item_id, a.number,
         CASE WHEN a.id = $9 THEN $23 ELSE a.completion_status = 'completed' AND a.success_status IS DISTINCT FROM 'failed' END AS satisfied,
         CASE WHEN a.id = $9 THEN $14 ELSE a.score_scaled END AS score_scaled
  FROM scorm_attempts a WHERE a.learner_id = $21
), parts AS (
  SELECT i.resource_type,
         coalesce(bool_or(a.satisfied), false) AS done,
         (array_agg(GREATEST(0, a.score_scaled) ORDER BY a.number DESC) FILTER (WHERE a.score_scaled IS NOT NULL))[1] AS score
  FROM scorm_items i LEFT JOIN latest a ON a.item_id = i.id
  WHERE i.package_id = $22 AND i.visible AND i.launch_url IS NOT NULL
  GROUP BY i.id, i.resource_type
) SELECT r.recorded, parts.resource_type, parts.done, parts.score
FROM (SELECT count(*)::int AS recorded FROM rec) r LEFT JOIN parts ON true`);

type Run = <R>(st: Statement, values: unknown[]) => Promise<R[]>;

/** What course progress a commit brings: the lesson complete, and/or one graded attempt with its score. */
interface ProgressNews {
  lessonId: number;
  complete: boolean;
  score: number | null;
}

/**
 * One commit from the player. In one transaction: the (session, seq) pair is recorded once — a
 * repeat changes nothing — and the attempt is locked and updated only when this commit is newer
 * than the newest it has, so a late or replayed commit never overwrites newer data. The sitting's
 * own time is kept by the same rule per sitting, and the attempt's total time is their sum.
 *
 * Players commit every few seconds, so this is the school's busiest write. It runs as plain SQL
 * (one statement to read and lock, one to write and see what course progress follows), not as
 * ORM queries, whose building, hydration and change sets cost more CPU than the commit's own work;
 * and on a connection of its own, where the statements are named prepared statements, planned once
 * per connection. Most commits change no course progress. One that does is rolled back and applied
 * again in a transaction of the EntityManager, because the courses slice writes progress through
 * it: the commit and its progress are stored together or not at all.
 */
export async function receiveCommit(em: EntityManager, claims: { attemptId: number; sessionId: number; learnerId: number }, input: CommitInput, bytes: number): Promise<CommitOutcome> {
  const pool = (await em.getConnection().getNativeClient()) as pg.Pool;
  const client = await pool.connect();
  let failure: Error | undefined;
  try {
    await client.query('BEGIN');
    const run: Run = async (st, values) => (await client.query({ name: st.name, text: st.text, values })).rows;
    const applied = await applyCommit(run, claims, input, bytes);
    if (!applied.progress) {
      await client.query('COMMIT');
      return applied.outcome;
    }
    await client.query('ROLLBACK');
  } catch (err) {
    // The connection is thrown away rather than handed back in an unknown state.
    failure = err as Error;
    throw err;
  } finally {
    client.release(failure);
  }
  return em.transactional(async (tx) => {
    const applied = await applyCommit((st, values) => runPrepared(tx, st, values), claims, input, bytes);
    if (applied.progress) await writeProgress(tx, claims.learnerId, applied.progress);
    return applied.outcome;
  });
}

/** The commit's statements, run by `run` inside a transaction; says what course progress is to be written with it. */
async function applyCommit(
  run: Run,
  claims: { attemptId: number; sessionId: number; learnerId: number },
  input: CommitInput,
  bytes: number,
): Promise<{ outcome: CommitOutcome; progress: ProgressNews | null }> {
  const [facts] = await run<CommitFacts>(COMMIT_FACTS, [input.session ?? claims.sessionId, claims.attemptId, claims.learnerId]);
  if (!facts) return { outcome: { status: 'refused', reason: 'session' }, progress: null };
  const version = facts.version;
  const checked = checkCommit(version, input.cmi, input.adl);
  if (!checked.ok) return { outcome: { status: 'invalid', problems: checked.problems }, progress: null };
  const { commit } = checked;

  // The attempt was locked before the commit is recorded, so the record says at once whether it was applied.
  const newer = facts.session_id > (facts.last_session_id ?? 0) || (facts.session_id === facts.last_session_id && input.seq > facts.last_seq);
  const now = new Date();
  let sittingSeq = facts.session_seq;
  let sittingSeconds = facts.session_seconds;
  let commitAt: Date | null = null;
  if (input.seq > facts.session_seq) {
    sittingSeq = input.seq;
    if (commit.sessionTime !== null) sittingSeconds = timespanSeconds(version, commit.sessionTime);
    commitAt = now;
  }
  const common = [facts.session_id, input.seq, !!input.final, newer, bytes, sittingSeq, sittingSeconds, commitAt, facts.attempt_id];
  if (!newer) {
    const [older] = await run<{ recorded: number }>(COMMIT_OLDER, common);
    return { outcome: older?.recorded ? { status: 'older', navRequest: commit.navRequest } : { status: 'repeated', navRequest: null }, progress: null };
  }
  const summary = summarise(version, commit.kept, { masteryScore: facts.mastery_score, completionThreshold: facts.completion_threshold, scaledPassingScore: facts.scaled_passing_score });
  if (facts.resource_type === 'asset') Object.assign(summary, { completionStatus: 'completed', lessonStatus: version === '1.2' ? 'completed' : null });
  const ended = !!input.final && endsAttempt(version, commit.exit, commit.navRequest, summary.lessonStatus ?? null);
  const exit = commit.navRequest === 'suspendAll' ? 'suspend' : commit.exit;
  const rows = await run<PartRow>(COMMIT_NEWER, [
    ...common,
    JSON.stringify(commit.kept),
    summary.lessonStatus,
    summary.completionStatus,
    summary.successStatus,
    summary.scoreScaled,
    summary.scoreRaw,
    summary.scoreMin,
    summary.scoreMax,
    exit,
    ended,
    now,
    claims.learnerId,
    facts.package_id,
    satisfied(summary),
  ]);
  if (!rows[0]?.recorded) return { outcome: { status: 'repeated', navRequest: null }, progress: null };
  return { outcome: { status: 'applied', navRequest: commit.navRequest }, progress: progressNews(rows, facts, !!input.final) };
}

/** A part of the package as COMMIT_NEWER sees it (no part at all: one row with done null). */
interface PartRow {
  recorded: number;
  resource_type: string | null;
  done: boolean | null;
  score: number | null;
}

/**
 * Course progress follows the package: the lesson is done once every visible part is done, and
 * a sitting that ends with a score on every SCO counts as one graded attempt (the course keeps the
 * best). The lesson's score is the mean of its SCOs' latest scores, in percent.
 */
function progressNews(rows: PartRow[], facts: Pick<CommitFacts, 'lesson_id' | 'lesson_done'>, final: boolean): ProgressNews | null {
  const parts = rows.filter((p) => p.done !== null);
  const complete = parts.length > 0 && parts.every((p) => p.done);
  // A score for the lesson only once every SCO has one: one part's 90% is not the lesson's.
  const scos = parts.filter((p) => p.resource_type === 'sco');
  const score = final && scos.length && scos.every((p) => p.score !== null) ? Math.round((100 * scos.reduce((n, p) => n + p.score!, 0)) / scos.length) : null;
  // A lesson done already stays done: every later commit of its package would otherwise be written
  // twice (rolled back and applied again with progress) for nothing.
  return (complete && !facts.lesson_done) || score !== null ? { lessonId: facts.lesson_id, complete, score } : null;
}

async function writeProgress(em: EntityManager, learnerId: number, news: ProgressNews) {
  // Only commits that change progress come here: the lesson's course is looked up for them alone.
  const lesson = { id: news.lessonId, courseId: (await em.findOneOrFail(Lesson, news.lessonId)).course.id };
  if (news.score !== null) await recordQuizResult(em, learnerId, lesson, news.score, news.complete);
  if (news.complete) await completeLesson(em, learnerId, lesson);
}

// ---------------------------------------------------------------------------------------------
// Teachers

export interface ItemReport {
  id: number;
  title: string;
  depth: number;
  launchable: boolean;
  learners: {
    id: number;
    displayName: string;
    status: string;
    score: number | null;
    seconds: number;
    attempts: number;
  }[];
}

async function staffLesson(em: EntityManager, actor: Actor, lessonId: number) {
  const lesson = await lessonForStaff(em, actor, lessonId);
  const { pkg, items } = await packageOfLesson(em, lessonId);
  const learnerIds = await learnersFollowedBy(em, actor, lesson.courseId);
  return { lesson, pkg, items, learnerIds };
}

/** Throws unless the actor follows this SCORM lesson. */
export async function assertFollows(em: EntityManager, actor: Actor, lessonId: number) {
  await lessonForStaff(em, actor, lessonId);
  await packageOfLesson(em, lessonId);
}

/** Per part: each followed learner's latest status and score, their time over all attempts, and how many attempts. */
export async function lessonReport(em: EntityManager, actor: Actor, lessonId: number) {
  const { lesson, pkg, items, learnerIds } = await staffLesson(em, actor, lessonId);
  const learners = learnerIds.length ? await em.find(User, { id: { $in: learnerIds } }, { orderBy: { displayName: 'asc' } }) : [];
  const attempts = learnerIds.length
    ? await em.find(ScormAttempt, { item: { $in: items.map((i) => i.id) }, learner: { $in: learnerIds } }, { orderBy: { number: 'asc' } })
    : [];
  const parts: ItemReport[] = items
    .filter((i) => i.visible)
    .map((i) => ({
      id: i.id,
      title: i.title,
      depth: i.depth,
      launchable: !!i.launchUrl,
      learners: i.launchUrl
        ? learners.map((l) => {
            const mine = attempts.filter((a) => a.item.id === i.id && a.learner.id === l.id);
            const last = shownAttempt(mine);
            return {
              id: l.id,
              displayName: l.displayName,
              status: statusOf(pkg.version, last),
              score: last?.scoreScaled === null || last?.scoreScaled === undefined ? null : Math.round(last.scoreScaled * 100),
              seconds: Math.round(mine.reduce((n, a) => n + a.totalSeconds, 0)),
              attempts: mine.length,
            };
          })
        : [],
    }));
  return { lesson, version: pkg.version, title: pkg.title, schemaVersion: pkg.schemaVersion, parts };
}

export interface InteractionView {
  id: string;
  type: string;
  description: string;
  response: string;
  correct: string[];
  result: string;
  time: string;
  latency: string;
}

/** One learner's attempts on each part, with their answers (interactions) as the SCO recorded them. */
export async function learnerAnswers(em: EntityManager, actor: Actor, lessonId: number, learnerId: number) {
  const { lesson, pkg, items, learnerIds } = await staffLesson(em, actor, lessonId);
  if (!learnerIds.includes(learnerId)) throw new NotFound();
  const learner = await em.findOneOrFail(User, learnerId);
  const attempts = await em.find(ScormAttempt, { learner: learnerId, item: { $in: items.map((i) => i.id) } }, { orderBy: { number: 'asc' } });
  const v12 = pkg.version === '1.2';
  const parts = items
    .filter((i) => i.launchUrl)
    .map((i) => ({
      id: i.id,
      title: i.title,
      attempts: attempts
        .filter((a) => a.item.id === i.id)
        .map((a) => ({
          number: a.number,
          status: statusOf(pkg.version, a),
          score: a.scoreScaled == null ? null : Math.round(a.scoreScaled * 100),
          seconds: Math.round(a.totalSeconds),
          updatedAt: a.updatedAt,
          interactions: interactionsOf(a.cmi, v12),
        })),
    }));
  return { lesson, version: pkg.version, learner: { id: learner.id, displayName: learner.displayName }, parts };
}

function interactionsOf(cmi: Record<string, string>, v12: boolean): InteractionView[] {
  const out: InteractionView[] = [];
  for (let n = 0; `cmi.interactions.${n}.id` in cmi; n++) {
    const at = (k: string) => cmi[`cmi.interactions.${n}.${k}`] ?? '';
    const correct: string[] = [];
    for (let c = 0; `cmi.interactions.${n}.correct_responses.${c}.pattern` in cmi; c++) correct.push(at(`correct_responses.${c}.pattern`));
    out.push({
      id: at('id'),
      type: at('type'),
      description: v12 ? '' : at('description'),
      response: v12 ? at('student_response') : at('learner_response'),
      correct,
      result: at('result'),
      time: v12 ? at('time') : at('timestamp'),
      latency: at('latency'),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The staff page: where a package may go, and the SCORM lessons already there

export async function staffOverview(em: EntityManager, actor: Actor) {
  const courses = await em.find(Course, coursesFollowedBy(actor), { orderBy: { title: 'asc' } });
  const places = [];
  for (const c of courses) {
    for (const u of await unitsOfCourse(em, c.id)) places.push({ value: `${c.id}:${u.id}`, course: c.title, unit: u.title });
  }
  const packages = courses.length
    ? await em.find(ScormPackage, { lesson: { course: { $in: courses.map((c) => c.id) }, retired: false } }, { populate: ['lesson.course'], orderBy: { importedAt: 'desc' } })
    : [];
  return {
    places,
    lessons: packages.map((p) => ({
      id: p.lesson.id,
      title: p.lesson.getEntity().title,
      course: p.lesson.getEntity().course.getEntity().title,
      version: p.version,
      importedAt: p.importedAt,
      zipBytes: p.zipBytes,
    })),
  };
}
