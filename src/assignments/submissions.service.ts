/**
 * Handing work in. Files are checked before they get here (src/platform/upload-checks.ts) and
 * stored before the transaction that records them; if that transaction fails, the stored bytes are
 * removed again, so nothing half-done stays behind.
 */
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../platform/actor.ts';
import { Forbidden, InvalidInput, NotFound } from '../platform/errors.ts';
import type { Storage } from '../platform/storage.ts';
import type { CheckedFile, UploadKind, UploadRules } from '../platform/upload-checks.ts';
import { cohortsOfLearner } from '../programmes/index.ts';
import { Assignment, DueExtension, Grade, Submission, SubmissionFile, SubmissionVersion, type SubmissionForm } from './assignment.entity.ts';
import { assignmentsVisibleTo, submissionsVisibleTo } from './assignments.policy.ts';
import { deadlinesFor, visibleAssignment } from './assignments.service.ts';

const FORM_KIND: Partial<Record<SubmissionForm, UploadKind>> = { photo: 'image', pdf: 'pdf', audio: 'audio' };

/** The upload rules an assignment sets. */
export function uploadRulesOf(a: Pick<Assignment, 'forms' | 'maxFiles' | 'maxFileMb'>): UploadRules {
  const kinds = a.forms.map((f) => FORM_KIND[f]).filter((k): k is UploadKind => !!k);
  return { kinds, maxBytes: a.maxFileMb * 1_000_000, maxFiles: kinds.length ? a.maxFiles : 0 };
}

export type WorkWindow = 'open' | 'closed' | 'done';

/**
 * Whether a learner may change their work now: before the cut-off (theirs, with any extension),
 * and either nothing handed in yet, resubmission allowed, or the teacher returned it.
 */
export function workWindow(a: Assignment, submission: Submission | null, extension: Date | undefined, now: Date): WorkWindow {
  const { cutoffAt } = deadlinesFor(a, extension);
  if (now < a.opensAt || (cutoffAt && now > cutoffAt)) return 'closed';
  if (!submission || submission.submittedVersion === 0 || submission.status === 'returned' || a.resubmissionAllowed) return 'open';
  return 'done';
}

async function extensionFor(em: EntityManager, assignmentId: number, learnerId: number) {
  return (await em.findOne(DueExtension, { assignment: assignmentId, learner: learnerId }))?.dueAt;
}

/** Everything the learner's page shows. A grade appears only once released. */
export async function learnerView(em: EntityManager, actor: Actor, assignmentId: number, now = new Date()) {
  if (actor.role !== 'learner') throw new Forbidden();
  const assignment = await visibleAssignment(em, actor, assignmentId, now);
  const submission = await em.findOne(Submission, { assignment: assignment.id, learner: actor.id });
  const extension = await extensionFor(em, assignment.id, actor.id);
  const versions = submission ? await em.find(SubmissionVersion, { submission: submission.id }, { orderBy: { number: 'desc' } }) : [];
  const files = submission ? await em.find(SubmissionFile, { submission: submission.id }, { orderBy: { position: 'asc', id: 'asc' } }) : [];
  const grade = submission ? await em.findOne(Grade, { submission: submission.id, releasedAt: { $ne: null } }) : null;
  return {
    assignment,
    submission,
    extension,
    deadlines: deadlinesFor(assignment, extension),
    window: workWindow(assignment, submission, extension, now),
    versions: versions.map((v) => ({ version: v, files: files.filter((f) => f.version?.id === v.id) })),
    draftFiles: files.filter((f) => !f.version),
    grade,
  };
}

export interface WorkInput {
  text?: string;
  files: CheckedFile[];
  submit: boolean;
  /** The submission revision the learner's page showed. */
  revision: number;
}

/** `stale`: the page was older than the stored work (the second tap of a double tap), so nothing was handed in. */
export type WorkResult = { outcome: 'saved' } | { outcome: 'submitted'; version: number; lateSeconds: number } | { outcome: 'stale' };

/**
 * Saves the draft (text and new files) and, when asked, hands it in as the next version. The
 * submission row is locked for the whole transaction, so two taps cannot interleave, and a submit
 * naming an old revision (the second of a double tap) hands nothing in twice.
 */
export async function saveWork(em: EntityManager, actor: Actor, assignmentId: number, input: WorkInput, deps: { storage: Storage; now?: Date }): Promise<WorkResult> {
  if (actor.role !== 'learner') throw new Forbidden();
  const now = deps.now ?? new Date();
  const assignment = await visibleAssignment(em, actor, assignmentId, now);
  const acceptsText = assignment.forms.includes('text');
  if (input.text && !acceptsText) throw new InvalidInput({ text: { key: 'assignments:work.noText' } });

  const stored: string[] = [];
  try {
    for (const f of input.files) stored.push((await deps.storage.put(f.buffer)).id);
    const result = await em.transactional(async (tx) => {
      const submission = await lockSubmission(tx, actor, assignment);
      const extension = await extensionFor(tx, assignment.id, actor.id);
      const window = workWindow(assignment, submission, extension, now);
      if (input.submit && input.revision !== submission.revision) return { outcome: 'stale' } as const;
      if (window === 'closed') throw new InvalidInput({ _form: { key: 'assignments:work.closed' } });
      if (window === 'done') throw new InvalidInput({ _form: { key: 'assignments:work.alreadyIn' } });

      if (acceptsText && input.text !== undefined) submission.draftText = input.text;
      const draft = await tx.find(SubmissionFile, { submission: submission.id, version: null });
      const rules = uploadRulesOf(assignment);
      if (draft.length + input.files.length > rules.maxFiles && input.files.length) {
        throw new InvalidInput({ files: { key: 'uploads:tooMany', vars: { count: rules.maxFiles } } });
      }
      let position = Math.max(0, ...draft.map((f) => f.position));
      input.files.forEach((f, i) => {
        tx.create(SubmissionFile, {
          submission,
          version: null,
          storageId: stored[i]!,
          name: f.name,
          kind: f.kind,
          mime: f.mime,
          bytes: f.buffer.length,
          originalBytes: f.originalBytes,
          width: f.width ?? null,
          height: f.height ?? null,
          position: ++position,
        });
      });
      submission.revision++;
      if (!input.submit) {
        await tx.flush();
        return { outcome: 'saved' } as const;
      }

      if (!submission.draftText && draft.length + input.files.length === 0) throw new InvalidInput({ _form: { key: 'assignments:work.empty' } });
      const { dueAt } = deadlinesFor(assignment, extension);
      const lateSeconds = Math.max(0, Math.floor((now.getTime() - dueAt.getTime()) / 1000));
      const number = submission.submittedVersion + 1;
      const version = tx.create(SubmissionVersion, { submission, number, text: submission.draftText, submittedAt: now, dueAt, lateSeconds });
      await tx.flush();
      await tx.nativeUpdate(SubmissionFile, { submission: submission.id, version: null }, { version: version.id });
      submission.submittedVersion = number;
      submission.lastSubmittedAt = now;
      submission.status = 'submitted';
      submission.revision++;
      // The next draft starts as a copy of what was handed in (rows, not bytes): fixing one photo
      // does not mean sending the others again.
      if (assignment.resubmissionAllowed) await copyVersionToDraft(tx, submission.id, version.id);
      await tx.flush();
      return { outcome: 'submitted', version: number, lateSeconds } as const;
    });
    if (result.outcome === 'stale') await Promise.all(stored.map((id) => deps.storage.delete(id)));
    return result;
  } catch (err) {
    await Promise.all(stored.map((id) => deps.storage.delete(id)));
    throw err;
  }
}

/** The learner's submission row, created on first use, locked until the transaction ends. */
async function lockSubmission(tx: EntityManager, actor: Actor, assignment: Assignment): Promise<Submission> {
  const mine = new Set(assignment.cohorts.getItems().map((c) => c.id));
  const cohort = (await cohortsOfLearner(tx, actor.id)).find((c) => mine.has(c.id));
  if (!cohort) throw new NotFound();
  await tx.execute(
    `INSERT INTO submissions (assignment_id, learner_id, cohort_id, status, draft_text, submitted_version, revision, created_at, updated_at)
     VALUES (?, ?, ?, 'draft', '', 0, 0, now(), now()) ON CONFLICT (assignment_id, learner_id) DO NOTHING`,
    [assignment.id, actor.id, cohort.id],
  );
  return tx.findOneOrFail(Submission, { assignment: assignment.id, learner: actor.id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
}

export async function copyVersionToDraft(tx: EntityManager, submissionId: number, versionId: number) {
  const existing = await tx.count(SubmissionFile, { submission: submissionId, version: null });
  if (existing > 0) return;
  await tx.execute(
    `INSERT INTO submission_files (submission_id, version_id, storage_id, name, kind, mime, bytes, original_bytes, width, height, position, created_at)
     SELECT submission_id, NULL, storage_id, name, kind, mime, bytes, original_bytes, width, height, position, now()
     FROM submission_files WHERE version_id = ?`,
    [versionId],
  );
}

/** Takes a file out of the learner's draft; its bytes go when nothing else names them. */
export async function removeDraftFile(em: EntityManager, actor: Actor, assignmentId: number, fileId: number, deps: { storage: Storage; now?: Date }) {
  if (actor.role !== 'learner') throw new Forbidden();
  const now = deps.now ?? new Date();
  const assignment = await visibleAssignment(em, actor, assignmentId, now);
  const storageId = await em.transactional(async (tx) => {
    const submission = await tx.findOne(Submission, { assignment: assignment.id, learner: actor.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!submission) throw new NotFound();
    const file = await tx.findOne(SubmissionFile, { id: fileId, submission: submission.id, version: null });
    if (!file) throw new NotFound();
    if (workWindow(assignment, submission, await extensionFor(tx, assignment.id, actor.id), now) !== 'open') throw new InvalidInput({ _form: { key: 'assignments:work.closed' } });
    tx.remove(file);
    submission.revision++;
    await tx.flush();
    return file.storageId;
  });
  if ((await em.count(SubmissionFile, { storageId })) === 0) await deps.storage.delete(storageId);
}

/** A file the actor may download: their own work, or work in a cohort they teach or run. */
export async function fileForDownload(em: EntityManager, actor: Actor, fileId: number) {
  const file = await em.findOne(SubmissionFile, { id: fileId, submission: submissionsVisibleTo(actor) });
  if (!file) throw new NotFound();
  return file;
}

/** The learner's assignments with what they have done, for "My assignments". */
export async function learnerOverview(em: EntityManager, actor: Actor, now = new Date()) {
  if (actor.role !== 'learner') throw new Forbidden();
  const assignments = await em.find(Assignment, assignmentsVisibleTo(actor, now), { orderBy: { dueAt: 'asc', id: 'asc' } });
  const ids = assignments.map((a) => a.id);
  const submissions = ids.length ? await em.find(Submission, { assignment: { $in: ids }, learner: actor.id }) : [];
  const grades = submissions.length ? await em.find(Grade, { submission: { $in: submissions.map((s) => s.id) }, releasedAt: { $ne: null } }) : [];
  const extensions = ids.length ? await em.find(DueExtension, { assignment: { $in: ids }, learner: actor.id }) : [];
  return assignments.map((a) => {
    const submission = submissions.find((s) => s.assignment.id === a.id) ?? null;
    const grade = submission ? (grades.find((g) => g.submission.id === submission.id) ?? null) : null;
    const extension = extensions.find((e) => e.assignment.id === a.id)?.dueAt;
    return { assignment: a, submission, grade, extension, deadlines: deadlinesFor(a, extension), window: workWindow(a, submission, extension, now) };
  });
}
