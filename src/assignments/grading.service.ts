/**
 * Grading: the queue of what waits for a teacher, one page per submission, saving and releasing
 * grades, returning work for resubmission, and the comment bank. Every change to a grade locks the
 * submission row, so concurrent saves by two teachers run one after the other, and writes its
 * GradeChange (who, when, old, new) in the same transaction: the last save stands and the history
 * keeps both.
 */
import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/index.ts';
import type { Actor } from '../platform/actor.ts';
import { InvalidInput, NotFound } from '../platform/errors.ts';
import { Assignment, DueExtension, FeedbackComment, Grade, GradeChange, Submission, SubmissionFile, SubmissionVersion, type GradeAction, type GradeState } from './assignment.entity.ts';
import { submissionsGradableBy } from './assignments.policy.ts';
import { deadlinesFor } from './assignments.service.ts';
import { noticeFeedback } from './notices.service.ts';
import { rubricScore } from './rubric.ts';
import { copyVersionToDraft } from './submissions.service.ts';

export interface QueueItem {
  submissionId: number;
  assignmentId: number;
  assignmentTitle: string;
  learnerName: string;
  version: number;
  submittedAt: Date;
  dueAt: Date;
  lateSeconds: number;
  /** Graded but not yet released. */
  draftGrade: boolean;
}

/**
 * What waits for the teacher: handed in and not graded (for the latest version) first, then
 * graded but unreleased; within each, the oldest due date first.
 */
export async function gradingQueue(em: EntityManager, actor: Actor): Promise<{ toGrade: QueueItem[]; toRelease: QueueItem[] }> {
  const submissions = await em.find(
    Submission,
    { $and: [submissionsGradableBy(actor), { submittedVersion: { $gt: 0 }, status: { $ne: 'returned' } }] },
    { populate: ['assignment', 'learner'] },
  );
  if (!submissions.length) return { toGrade: [], toRelease: [] };
  const ids = submissions.map((s) => s.id);
  const grades = new Map((await em.find(Grade, { submission: { $in: ids } })).map((g) => [g.submission.id, g]));
  const versions = await em.find(SubmissionVersion, { submission: { $in: ids } });
  const latest = new Map(submissions.map((s) => [s.id, versions.find((v) => v.submission.id === s.id && v.number === s.submittedVersion)]));
  const extensions = await em.find(DueExtension, { assignment: { $in: [...new Set(submissions.map((s) => s.assignment.id))] } });
  const toGrade: QueueItem[] = [];
  const toRelease: QueueItem[] = [];
  for (const s of submissions) {
    const a = s.assignment.getEntity();
    const g = grades.get(s.id);
    const v = latest.get(s.id);
    const extension = extensions.find((e) => e.assignment.id === a.id && e.learner.id === s.learner.id)?.dueAt;
    const item: QueueItem = {
      submissionId: s.id,
      assignmentId: a.id,
      assignmentTitle: a.title,
      learnerName: s.learner.getEntity().displayName,
      version: s.submittedVersion,
      submittedAt: s.lastSubmittedAt ?? s.updatedAt,
      dueAt: deadlinesFor(a, extension).dueAt,
      lateSeconds: v?.lateSeconds ?? 0,
      draftGrade: !!g && !g.releasedAt,
    };
    if (!g || g.versionNumber < s.submittedVersion) toGrade.push(item);
    else if (!g.releasedAt) toRelease.push(item);
  }
  const order = (x: QueueItem, y: QueueItem) => x.dueAt.getTime() - y.dueAt.getTime() || x.submittedAt.getTime() - y.submittedAt.getTime();
  return { toGrade: toGrade.sort(order), toRelease: toRelease.sort(order) };
}

/** A submission the actor may grade, with what the grading page needs. */
export async function gradingView(em: EntityManager, actor: Actor, submissionId: number) {
  const submission = await em.findOne(Submission, { $and: [{ id: submissionId }, submissionsGradableBy(actor)] }, { populate: ['assignment', 'learner', 'cohort'] });
  if (!submission || submission.submittedVersion === 0) throw new NotFound();
  const versions = await em.find(SubmissionVersion, { submission: submission.id }, { orderBy: { number: 'desc' } });
  const files = await em.find(SubmissionFile, { submission: submission.id, version: { $ne: null } }, { orderBy: { position: 'asc', id: 'asc' } });
  const grade = await em.findOne(Grade, { submission: submission.id }, { populate: ['gradedBy'] });
  const history = await em.find(GradeChange, { submission: submission.id }, { populate: ['changedBy'], orderBy: { id: 'desc' } });
  const bank = await em.find(FeedbackComment, { teacher: actor.id }, { orderBy: { id: 'asc' } });
  return {
    submission,
    assignment: submission.assignment.getEntity(),
    versions: versions.map((v) => ({ version: v, files: files.filter((f) => f.version?.id === v.id) })),
    grade,
    history,
    bank,
  };
}

export interface GradeInput {
  score?: number;
  /** Criterion id → level id, for a rubric. */
  levels: Record<string, string>;
  feedback: string;
  bankCommentId?: number;
  saveToBank: boolean;
  release: boolean;
  seenRevision: number;
}

function stateOf(g: Grade | null): GradeState | null {
  if (!g) return null;
  return { versionNumber: g.versionNumber, score: g.score, rubricLevels: g.rubricLevels ?? null, feedback: g.feedback, released: !!g.releasedAt };
}

/** The submission, locked until the transaction ends: grade changes on it queue up behind each other. */
async function lockGradable(tx: EntityManager, actor: Actor, submissionId: number): Promise<Submission> {
  const submission = await tx.findOne(Submission, { $and: [{ id: submissionId }, submissionsGradableBy(actor)] }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
  if (!submission || submission.submittedVersion === 0) throw new NotFound();
  return submission;
}

function audit(tx: EntityManager, actor: Actor, submission: Submission, action: GradeAction, oldValue: GradeState | null, newValue: GradeState | null, at: Date) {
  tx.create(GradeChange, { submission, action, changedBy: tx.getReference(User, actor.id), changedAt: at, oldValue, newValue });
}

export interface SaveGradeResult {
  released: boolean;
  /** Someone else changed this grade after the teacher's page was loaded; their version is in the history. */
  overwrote: string | null;
}

export async function saveGrade(em: EntityManager, actor: Actor, submissionId: number, input: GradeInput, now = new Date()): Promise<SaveGradeResult> {
  return em.transactional(async (tx) => {
    const submission = await lockGradable(tx, actor, submissionId);
    const assignment = await tx.findOneOrFail(Assignment, submission.assignment.id);
    let score: number;
    let rubricLevels: Record<string, string> | null = null;
    if (assignment.rubric) {
      rubricLevels = Object.fromEntries(assignment.rubric.criteria.map((c) => [c.id, input.levels[c.id] ?? '']));
      score = rubricScore(assignment.rubric, rubricLevels);
    } else {
      if (input.score === undefined) throw new InvalidInput({ score: { key: 'validation:required' } });
      if (input.score > assignment.maxPoints) throw new InvalidInput({ score: { key: 'validation:tooBig', vars: { max: assignment.maxPoints } } });
      score = input.score;
    }
    let feedback = input.feedback;
    if (input.bankCommentId !== undefined) {
      const comment = await tx.findOne(FeedbackComment, { id: input.bankCommentId, teacher: actor.id });
      if (!comment) throw new InvalidInput({ bankCommentId: { key: 'validation:choose' } });
      feedback = feedback ? `${feedback}\n\n${comment.text}` : comment.text;
    }
    if (feedback.length > 10000) throw new InvalidInput({ feedback: { key: 'validation:tooLong', vars: { max: 10000 } } });
    if (input.saveToBank && input.feedback) {
      const known = await tx.count(FeedbackComment, { teacher: actor.id, text: input.feedback });
      if (!known) tx.create(FeedbackComment, { teacher: tx.getReference(User, actor.id), text: input.feedback.slice(0, 1000) });
    }

    const existing = await tx.findOne(Grade, { submission: submission.id }, { populate: ['gradedBy'], refresh: true });
    const before = stateOf(existing);
    const overwrote = existing && input.seenRevision !== existing.revision && existing.gradedBy.id !== actor.id ? existing.gradedBy.getEntity().displayName : null;
    const wasReleased = !!existing?.releasedAt;
    let grade: Grade;
    if (!existing) {
      grade = tx.create(Grade, { submission, versionNumber: submission.submittedVersion, score, rubricLevels, feedback, gradedBy: tx.getReference(User, actor.id), gradedAt: now, releasedAt: null, revision: 1 });
    } else {
      grade = existing as Grade;
      grade.versionNumber = submission.submittedVersion;
      grade.score = score;
      grade.rubricLevels = rubricLevels;
      grade.feedback = feedback;
      grade.gradedBy = tx.getReference(User, actor.id, { wrapped: true });
      grade.gradedAt = now;
      grade.revision++;
    }
    if (input.release && !grade.releasedAt) grade.releasedAt = now;
    audit(tx, actor, submission, input.release && !wasReleased ? 'release' : 'save', before, stateOf(grade), now);
    await tx.flush();
    if (grade.releasedAt && (!wasReleased || before?.versionNumber !== grade.versionNumber || before.feedback !== grade.feedback || before.score !== grade.score)) {
      await noticeFeedback(tx, [submission.learner.id], assignment.id, now);
    }
    return { released: !!grade.releasedAt, overwrote };
  });
}

/** Releases the grade of one submission. */
export async function releaseGrade(em: EntityManager, actor: Actor, submissionId: number, now = new Date()) {
  await em.transactional(async (tx) => {
    const submission = await lockGradable(tx, actor, submissionId);
    const grade = await tx.findOne(Grade, { submission: submission.id }, { refresh: true });
    if (!grade) throw new InvalidInput({ _form: { key: 'assignments:grade.nothingToRelease' } });
    if (grade.releasedAt) return;
    const before = stateOf(grade);
    grade.releasedAt = now;
    audit(tx, actor, submission, 'release', before, stateOf(grade), now);
    await tx.flush();
    await noticeFeedback(tx, [submission.learner.id], submission.assignment.id, now);
  });
}

/** Releases every unreleased grade of an assignment that the actor may grade. Returns how many. */
export async function releaseAll(em: EntityManager, actor: Actor, assignmentId: number, now = new Date()): Promise<number> {
  return em.transactional(async (tx) => {
    const submissions = await tx.find(Submission, { $and: [{ assignment: assignmentId }, submissionsGradableBy(actor)] }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } });
    if (!submissions.length) return 0;
    const grades = await tx.find(Grade, { submission: { $in: submissions.map((s) => s.id) }, releasedAt: null }, { refresh: true });
    const learners: number[] = [];
    for (const grade of grades) {
      const submission = submissions.find((s) => s.id === grade.submission.id)!;
      const before = stateOf(grade);
      grade.releasedAt = now;
      audit(tx, actor, submission, 'release', before, stateOf(grade), now);
      learners.push(submission.learner.id);
    }
    await tx.flush();
    await noticeFeedback(tx, learners, assignmentId, now);
    return grades.length;
  });
}

/**
 * Sends work back: the learner may hand in one more version even where resubmission is not
 * otherwise allowed. The grade stays as it is (release it for the learner to read why).
 */
export async function returnForResubmission(em: EntityManager, actor: Actor, submissionId: number, now = new Date()) {
  await em.transactional(async (tx) => {
    const submission = await lockGradable(tx, actor, submissionId);
    if (submission.status === 'returned') return;
    const grade = await tx.findOne(Grade, { submission: submission.id }, { refresh: true });
    submission.status = 'returned';
    submission.revision++;
    audit(tx, actor, submission, 'return', stateOf(grade), stateOf(grade), now);
    const latest = await tx.findOneOrFail(SubmissionVersion, { submission: submission.id, number: submission.submittedVersion });
    await copyVersionToDraft(tx, submission.id, latest.id);
    await tx.flush();
    await noticeFeedback(tx, [submission.learner.id], submission.assignment.id, now);
  });
}

export async function addComment(em: EntityManager, actor: Actor, text: string) {
  const known = await em.count(FeedbackComment, { teacher: actor.id, text });
  if (known) return;
  em.create(FeedbackComment, { teacher: em.getReference(User, actor.id), text });
  await em.flush();
}

export async function removeComment(em: EntityManager, actor: Actor, id: number) {
  const removed = await em.nativeDelete(FeedbackComment, { id, teacher: actor.id });
  if (!removed) throw new NotFound();
}

export async function commentBank(em: EntityManager, actor: Actor) {
  return em.find(FeedbackComment, { teacher: actor.id }, { orderBy: { id: 'asc' } });
}
