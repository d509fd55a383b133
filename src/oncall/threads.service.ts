/**
 * Questions and answers. A learner asks the teachers of one of their cohorts about a lesson or
 * an assignment; the teachers of that cohort answer, the learner follows up, someone marks it
 * resolved. Every read goes through the SQL filters of oncall.policy.ts.
 */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/index.ts';
import type { Actor } from '../platform/actor.ts';
import { Forbidden, InvalidInput, NotFound } from '../platform/errors.ts';
import type { Storage } from '../platform/storage.ts';
import { Cohort, cohortsOfLearner } from '../programmes/index.ts';
import type { Notify } from './notices.ts';
import { threadsVisibleTo, threadsWritableBy } from './oncall.policy.ts';
import { Attachment, Message, Thread, type AttachmentKind, type ContextKind } from './thread.entity.ts';

/** A lesson or assignment as its own slice describes it to this one. */
export interface ContextRecord {
  kind: ContextKind;
  id: number;
  title: string;
  /** The course (or class) it belongs to. */
  courseTitle: string | null;
  url: string;
  /**
   * Cohorts through which the learner reaches it, when its slice knows; the question goes to one
   * of these. Unknown (undefined): any of the learner's active cohorts.
   */
  cohortIds?: number[];
}

/** A file already checked (src/platform/upload-checks.ts), waiting to be stored. */
export interface NewAttachment {
  kind: AttachmentKind;
  mime: string;
  name: string;
  buffer: Buffer;
}

export interface MessageInput {
  body?: string;
  attachments: NewAttachment[];
  /**
   * The idempotency key of the form (made when the page was drawn). The same key sent again, one
   * after the other or at the same moment, is the same message; each new page gives a new key.
   */
  requestKey: string;
}

export interface ThreadDeps {
  notify: Notify;
  storage: Storage;
  now?: () => Date;
}

function excerptOf(body: string | undefined, attachments: NewAttachment[]): string {
  const text = (body ?? '').replace(/\s+/g, ' ').trim();
  if (text) return text.length > 160 ? `${text.slice(0, 159)}…` : text;
  return attachments[0]?.kind === 'voice' ? '🎤' : '📷';
}

/** The cohorts a learner may send this question to: active, and (when known) where the context is offered. */
export async function cohortChoices(em: EntityManager, actor: Actor, context: Pick<ContextRecord, 'cohortIds'>) {
  const cohorts = await cohortsOfLearner(em, actor.id);
  const allowed = context.cohortIds ? cohorts.filter((c) => context.cohortIds!.includes(c.id)) : cohorts;
  return allowed.map((c) => ({ id: c.id, name: c.name }));
}

/**
 * Opens a thread. The cohort must be one the learner is actively in (and that offers the lesson,
 * when its slice says which); with only one such cohort it need not be named.
 */
export async function askQuestion(
  em: EntityManager,
  actor: Actor,
  context: ContextRecord,
  input: MessageInput & { cohortId?: number },
  deps: ThreadDeps,
): Promise<Thread> {
  if (actor.role !== 'learner') throw new Forbidden();
  if (!input.body) throw new InvalidInput({ body: { key: 'validation:required' } });
  const choices = await cohortChoices(em, actor, context);
  if (choices.length === 0) throw new InvalidInput({ body: { key: 'oncall:ask.noCohort' } });
  const cohortId = input.cohortId ?? (choices.length === 1 ? choices[0]!.id : undefined);
  if (!cohortId || !choices.some((c) => c.id === cohortId)) throw new InvalidInput({ cohortId: { key: 'validation:choose' } });

  const now = deps.now?.() ?? new Date();
  // Looked up through the message, whose key is unique per author whatever form it came from.
  const sentBefore = () => em.findOne(Thread, { learner: actor.id, messages: { author: actor.id, requestKey: input.requestKey } });
  // A form sent again after its answer was lost: no files are stored for it a second time.
  const repeat = await sentBefore();
  if (repeat) return repeat;

  return onceByKey(sentBefore, () => withStoredFiles(deps.storage, input.attachments, (stored) =>
    em.transactional(async (tx) => {
      const cohort = await tx.findOneOrFail(Cohort, cohortId, { populate: ['teachers'] });
      const thread = tx.create(Thread, {
        cohort,
        learner: tx.getReference(User, actor.id),
        contextKind: context.kind,
        contextId: context.id,
        contextTitle: context.title.slice(0, 200),
        contextCourse: context.courseTitle?.slice(0, 200) ?? null,
        contextUrl: context.url.slice(0, 300),
        excerpt: excerptOf(input.body, input.attachments),
        status: 'open',
        openedAt: now,
        waitingSince: now,
        lastMessageAt: now,
        requestKey: input.requestKey,
      });
      addMessageRecords(tx, thread, actor, input, stored, now);
      await tx.flush();
      await deps.notify(tx, { kind: 'question', recipients: cohort.teachers.getItems().map((t) => t.id), actorId: actor.id, threadId: thread.id, at: now });
      return thread;
    }),
  ));
}

/**
 * Runs a write whose rows carry an idempotency key. When the same form arrives twice at the same
 * moment, both pass the look-up before either is written; the unique key then refuses the later
 * transaction (its files are removed again by withStoredFiles) and it answers with what the first
 * one wrote.
 */
async function onceByKey<T>(sentBefore: () => Promise<T | null>, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
    const first = await sentBefore();
    if (!first) throw err;
    return first;
  }
}

function addMessageRecords(em: EntityManager, thread: Thread, actor: Actor, input: MessageInput, stored: (NewAttachment & { storageId: string; bytes: number })[], at: Date) {
  const message = em.create(Message, { thread, author: em.getReference(User, actor.id), body: input.body ?? null, createdAt: at, requestKey: input.requestKey });
  for (const file of stored) {
    em.create(Attachment, { message, kind: file.kind, storageId: file.storageId, mime: file.mime, name: file.name.slice(0, 120), bytes: file.bytes });
  }
  return message;
}

/**
 * Stores the files, then runs the database write; if the write fails the files are removed
 * again, so nothing half-written stays behind.
 */
async function withStoredFiles<T>(storage: Storage, files: NewAttachment[], write: (stored: (NewAttachment & { storageId: string; bytes: number })[]) => Promise<T>): Promise<T> {
  const stored: (NewAttachment & { storageId: string; bytes: number })[] = [];
  try {
    for (const file of files) {
      const { id, size } = await storage.put(file.buffer);
      stored.push({ ...file, storageId: id, bytes: size });
    }
    return await write(stored);
  } catch (err) {
    for (const s of stored) await storage.delete(s.storageId);
    throw err;
  }
}

/** A thread the actor may read, with its messages and their files in order. NotFound otherwise. */
export async function getThread(em: EntityManager, actor: Actor, id: number) {
  const thread = await em.findOne(Thread, { $and: [{ id }, threadsVisibleTo(actor)] }, { populate: ['cohort', 'learner', 'resolvedBy'] });
  if (!thread) throw new NotFound();
  const messages = await em.find(Message, { thread }, { populate: ['author', 'attachments'], orderBy: { createdAt: 'asc', id: 'asc' } });
  return { thread, messages };
}

/** NotFound unless the actor may add to the thread: checked before any upload is worked on. */
export async function assertWritable(em: EntityManager, actor: Actor, threadId: number) {
  if (!(await em.count(Thread, { $and: [{ id: threadId }, threadsWritableBy(actor)] }))) throw new NotFound();
}

/**
 * Adds an answer (teacher) or a follow-up (learner). The first teacher message is the thread's
 * first answer, recorded once even when two teachers answer at the same moment. A learner's
 * follow-up reopens a resolved thread and puts it back in the inbox.
 */
export async function addMessage(em: EntityManager, actor: Actor, threadId: number, input: MessageInput, deps: ThreadDeps): Promise<Thread> {
  if (!input.body && input.attachments.length === 0) throw new InvalidInput({ body: { key: 'oncall:thread.empty' } });
  const thread = await em.findOne(Thread, { $and: [{ id: threadId }, threadsWritableBy(actor)] });
  if (!thread) throw new NotFound();
  const now = deps.now?.() ?? new Date();

  const sentBefore = async () => ((await em.count(Message, { author: actor.id, requestKey: input.requestKey })) ? thread : null);
  if (await sentBefore()) return thread;

  return onceByKey(sentBefore, () => withStoredFiles(deps.storage, input.attachments, (stored) =>
    em.transactional(async (tx) => {
      const t = await tx.findOneOrFail(Thread, thread.id, { populate: ['cohort.teachers'] });
      addMessageRecords(tx, t, actor, input, stored, now);
      t.lastMessageAt = now;
      if (actor.role === 'learner') {
        t.waitingSince ??= now;
        if (t.status === 'resolved') {
          t.status = 'open';
          t.resolvedAt = null;
          t.resolvedBy = null;
        }
      } else {
        t.waitingSince = null;
      }
      await tx.flush();
      if (actor.role === 'teacher') {
        await tx.nativeUpdate(Thread, { id: t.id, firstAnsweredAt: null }, { firstAnsweredAt: now, firstAnsweredBy: actor.id });
      }
      await deps.notify(tx, { kind: 'message', recipients: otherSide(t, actor), actorId: actor.id, threadId: t.id, at: now });
      return t;
    }),
  ));
}

/** Whom to tell about something the actor did in a thread: the learner, or the cohort's teachers. */
function otherSide(thread: Thread, actor: Actor): number[] {
  return actor.role === 'learner' ? thread.cohort.getEntity().teachers.getItems().map((u) => u.id) : [thread.learner.id];
}

/** Either side may close a thread; the other side is told. Resolving twice changes nothing. */
export async function resolveThread(em: EntityManager, actor: Actor, threadId: number, deps: Pick<ThreadDeps, 'notify' | 'now'>) {
  const thread = await em.findOne(Thread, { $and: [{ id: threadId }, threadsWritableBy(actor)] });
  if (!thread) throw new NotFound();
  if (thread.status === 'resolved') return;
  const now = deps.now?.() ?? new Date();
  await em.transactional(async (tx) => {
    const t = await tx.findOneOrFail(Thread, thread.id, { populate: ['cohort.teachers'] });
    t.status = 'resolved';
    t.resolvedAt = now;
    t.resolvedBy = tx.getReference(User, actor.id, { wrapped: true });
    t.waitingSince = null;
    await tx.flush();
    await deps.notify(tx, { kind: 'resolved', recipients: otherSide(t, actor), actorId: actor.id, threadId: t.id, at: now });
  });
}

/** The learner's own threads, newest activity first. */
export async function learnerThreads(em: EntityManager, actor: Actor, limit = 50) {
  if (actor.role !== 'learner') throw new Forbidden();
  const threads = await em.find(Thread, threadsVisibleTo(actor), { populate: ['cohort'], orderBy: { lastMessageAt: 'desc' }, limit });
  return threads.map((t) => ({
    id: t.id,
    contextTitle: t.contextTitle,
    contextCourse: t.contextCourse,
    excerpt: t.excerpt,
    status: t.status,
    answered: !!t.firstAnsweredAt,
    waiting: !!t.waitingSince,
    lastMessageAt: t.lastMessageAt,
    cohort: t.cohort.getEntity().name,
  }));
}

/**
 * A teacher's inbox: open threads of the cohorts they teach. Those waiting for an answer come
 * first, the longest waiting at the top; then answered ones not yet resolved.
 */
export async function inbox(em: EntityManager, actor: Actor, limit = 100) {
  if (actor.role !== 'teacher') throw new Forbidden();
  const threads = await em.find(
    Thread,
    { $and: [threadsVisibleTo(actor), { status: 'open' }] },
    { populate: ['cohort', 'learner'], orderBy: [{ waitingSince: 'asc nulls last' }, { lastMessageAt: 'desc' }], limit },
  );
  return threads.map((t) => ({
    id: t.id,
    learner: t.learner.getEntity().displayName,
    cohort: t.cohort.getEntity().name,
    contextKind: t.contextKind,
    contextTitle: t.contextTitle,
    contextCourse: t.contextCourse,
    contextUrl: t.contextUrl,
    excerpt: t.excerpt,
    waitingSince: t.waitingSince,
    lastMessageAt: t.lastMessageAt,
  }));
}

/** Waiting threads in the actor's cohorts, for the home page and the menu. */
export async function waitingCount(em: EntityManager, actor: Actor) {
  return em.count(Thread, { $and: [threadsVisibleTo(actor), { status: 'open', waitingSince: { $ne: null } }] });
}

/** A file of a thread the actor may read, asked for under that thread's address; NotFound otherwise. */
export async function attachmentFor(em: EntityManager, actor: Actor, threadId: number, attachmentId: number) {
  const attachment = await em.findOne(Attachment, { id: attachmentId, message: { thread: { $and: [{ id: threadId }, threadsVisibleTo(actor)] } } });
  if (!attachment) throw new NotFound();
  return attachment;
}
