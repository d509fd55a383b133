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
import { cohortsOfTeacher } from '../programmes/index.ts';
import { Assignment, FeedbackComment, Grade, GradeChange, Submission, SubmissionFile, SubmissionVersion, type GradeAction, type GradeState } from './assignment.entity.ts';
import { submissionsGradableBy } from './assignments.policy.ts';
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

/** How many queue items one page shows. */
export const QUEUE_PAGE_SIZE = 50;

/** Which part of the queue: handed in and not graded (for the latest version), or graded but unreleased. */
export type QueuePart = 'toGrade' | 'toRelease';

export interface QueuePage {
  items: QueueItem[];
  /** How many items the whole part holds. */
  total: number;
  /** Zero-based position of the first item. */
  offset: number;
}

/** The cohorts whose work the actor grades: a teacher's own, every cohort for an admin (null), none for others. */
async function gradedCohorts(em: EntityManager, actor: Actor): Promise<number[] | null> {
  if (actor.role === 'admin') return null;
  if (actor.role !== 'teacher') return [];
  return (await cohortsOfTeacher(em, actor.id)).map((c) => c.id);
}

/**
 * What both queue statements read: handed-in work (not returned) of the given cohorts as `s`,
 * beside its grade as `g` (version graded, released or not) and any `joins` asked for, with the
 * parameters it needs. The
 * grade is looked up per submission through its index — a teacher's few hundred submissions — rather
 * than the whole grades table hashed, which the planner otherwise prefers.
 */
function queueSource(cohorts: number[] | null, joins = ''): { sql: string; params: number[] } {
  const inCohorts = cohorts === null ? '' : `s.cohort_id IN (${cohorts.map(() => '?').join(',')}) AND `;
  return {
    sql: `submissions s ${joins}
     LEFT JOIN LATERAL (SELECT g.version_number, g.released_at FROM grades g WHERE g.submission_id = s.id LIMIT 1) g ON true
     WHERE ${inCohorts}s.submitted_version > 0 AND s.status <> 'returned'`,
    params: cohorts ?? [],
  };
}

const PART_FILTER: Record<QueuePart, string> = {
  toGrade: '(g.version_number IS NULL OR g.version_number < s.submitted_version)',
  toRelease: 'g.version_number >= s.submitted_version AND g.released_at IS NULL',
};

/** How many items each part of the actor's queue holds, in one aggregate statement. */
export async function queueSizes(em: EntityManager, actor: Actor): Promise<Record<QueuePart, number>> {
  return sizesOf(em, await gradedCohorts(em, actor));
}

async function sizesOf(em: EntityManager, cohorts: number[] | null): Promise<Record<QueuePart, number>> {
  if (cohorts?.length === 0) return { toGrade: 0, toRelease: 0 };
  const source = queueSource(cohorts);
  const [row] = (await em.execute(
    `SELECT count(*) FILTER (WHERE ${PART_FILTER.toGrade})::int AS "toGrade", count(*) FILTER (WHERE ${PART_FILTER.toRelease})::int AS "toRelease"
     FROM ${source.sql}`,
    source.params,
  )) as Record<QueuePart, number>[];
  return { toGrade: row?.toGrade ?? 0, toRelease: row?.toRelease ?? 0 };
}

interface QueueRow {
  submission_id: number;
  assignment_id: number;
  assignment_title: string;
  learner_name: string;
  version: number;
  submitted_at: Date | string;
  due_at: Date | string;
  late_seconds: number;
  draft_grade: boolean;
}

/**
 * One page of what waits for the teacher in one part of the queue, the oldest due date (the
 * learner's extension counted) first, then the earliest handed in. Only the columns the queue
 * shows are read, as plain rows.
 */
async function queueItems(em: EntityManager, cohorts: number[] | null, part: QueuePart, offset: number): Promise<QueueItem[]> {
  if (cohorts?.length === 0) return [];
  const source = queueSource(
    cohorts,
    'JOIN assignments a ON a.id = s.assignment_id LEFT JOIN assignment_extensions e ON e.assignment_id = s.assignment_id AND e.learner_id = s.learner_id',
  );
  // The page is chosen first from the submissions alone; names and lateness are read for its rows only.
  const rows = (await em.execute(
    `SELECT q.submission_id, q.assignment_id, a.title AS assignment_title, u.display_name AS learner_name, q.version,
            q.submitted_at, q.due_at, coalesce(v.late_seconds, 0) AS late_seconds, q.draft_grade
     FROM (
       SELECT s.id AS submission_id, s.assignment_id, s.learner_id, s.submitted_version AS version,
              coalesce(s.last_submitted_at, s.updated_at) AS submitted_at, coalesce(e.due_at, a.due_at) AS due_at,
              (g.version_number IS NOT NULL AND g.released_at IS NULL) AS draft_grade
       FROM ${source.sql}
         AND ${PART_FILTER[part]}
       ORDER BY due_at, submitted_at, s.id
       LIMIT ? OFFSET ?
     ) q
     JOIN assignments a ON a.id = q.assignment_id
     JOIN users u ON u.id = q.learner_id
     LEFT JOIN submission_versions v ON v.submission_id = q.submission_id AND v.number = q.version
     ORDER BY q.due_at, q.submitted_at, q.submission_id`,
    [...source.params, QUEUE_PAGE_SIZE, offset],
  )) as QueueRow[];
  return rows.map((r) => ({
    submissionId: r.submission_id,
    assignmentId: r.assignment_id,
    assignmentTitle: r.assignment_title,
    learnerName: r.learner_name,
    version: r.version,
    submittedAt: new Date(r.submitted_at),
    dueAt: new Date(r.due_at),
    lateSeconds: r.late_seconds,
    draftGrade: r.draft_grade,
  }));
}

/** A page of each part of the queue with the sizes of both: what the teacher's list shows. */
export async function gradingQueuePages(em: EntityManager, actor: Actor, offsets: Record<QueuePart, number>): Promise<Record<QueuePart, QueuePage>> {
  const cohorts = await gradedCohorts(em, actor);
  const sizes = await sizesOf(em, cohorts);
  const page = async (part: QueuePart): Promise<QueuePage> => {
    // Past the end (the queue shrank since the link was made): the last page.
    const last = Math.max(0, Math.floor((sizes[part] - 1) / QUEUE_PAGE_SIZE) * QUEUE_PAGE_SIZE);
    const offset = Math.min(offsets[part], last);
    return { items: sizes[part] ? await queueItems(em, cohorts, part, offset) : [], total: sizes[part], offset };
  };
  return { toGrade: await page('toGrade'), toRelease: await page('toRelease') };
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
