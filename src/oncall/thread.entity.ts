import { defineEntity, p } from '@mikro-orm/core';
import { User } from '../accounts/index.ts';
import { Cohort } from '../programmes/index.ts';

/** What a question is about: a lesson (courses) or an assignment (assignments). */
export const CONTEXT_KINDS = ['lesson', 'assignment'] as const;
export type ContextKind = (typeof CONTEXT_KINDS)[number];

export const THREAD_STATUSES = ['open', 'resolved'] as const;

/**
 * A learner's question to the teachers of one cohort, with every answer and follow-up. The
 * context is kept as it was when asked (title, course, link), so the inbox needs no other slice.
 * `waitingSince` is the oldest learner message no teacher has answered yet: the inbox sorts by it.
 */
const ThreadSchema = defineEntity({
  name: 'Thread',
  tableName: 'oncall_threads',
  indexes: [
    { properties: ['cohort', 'status', 'waitingSince'] },
    { properties: ['learner', 'lastMessageAt'] },
    { properties: ['cohort', 'openedAt'] },
  ],
  uniques: [{ properties: ['learner', 'requestKey'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    cohort: () => p.manyToOne(Cohort).ref(),
    learner: () => p.manyToOne(User).ref(),
    contextKind: p.enum(CONTEXT_KINDS),
    contextId: p.integer(),
    contextTitle: p.string().length(200),
    /** The course (or class) the lesson or assignment belongs to, for a reader who teaches several. */
    contextCourse: p.string().length(200).nullable(),
    contextUrl: p.string().length(300),
    /** The start of the question, so lists need not read the messages. */
    excerpt: p.string().length(160),
    status: p.enum(THREAD_STATUSES).default('open'),
    openedAt: p.datetime(),
    waitingSince: p.datetime().nullable(),
    firstAnsweredAt: p.datetime().nullable(),
    firstAnsweredBy: () => p.manyToOne(User).nullable().ref().index(),
    lastMessageAt: p.datetime(),
    resolvedAt: p.datetime().nullable(),
    resolvedBy: () => p.manyToOne(User).nullable().ref(),
    /** The idempotency key of the form that opened it (its first message's): the same form sent twice opens one thread. */
    requestKey: p.string().length(64),
    messages: () => p.oneToMany(Message).mappedBy('thread'),
  },
});
export class Thread extends ThreadSchema.class {}
ThreadSchema.setClass(Thread);

/** One message in a thread: the question, an answer or a follow-up. Text, a photo, a voice note. */
const MessageSchema = defineEntity({
  name: 'Message',
  tableName: 'oncall_messages',
  uniques: [{ properties: ['author', 'requestKey'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    thread: () => p.manyToOne(Thread).ref().index(),
    author: () => p.manyToOne(User).ref(),
    /** Null for a reply that is only a voice note. */
    body: p.text().nullable(),
    createdAt: p.datetime(),
    /**
     * The idempotency key the form carried (a random id made when the page was drawn): a form sent
     * again after a double tap or a lost answer is one message, two sendings of the same words are two.
     */
    requestKey: p.string().length(64),
    attachments: () => p.oneToMany(Attachment).mappedBy('message'),
  },
});
export class Message extends MessageSchema.class {}
MessageSchema.setClass(Message);

export const ATTACHMENT_KINDS = ['photo', 'voice'] as const;
export type AttachmentKind = (typeof ATTACHMENT_KINDS)[number];

/** A checked file kept in storage by id; served only to those who may read the thread. */
const AttachmentSchema = defineEntity({
  name: 'Attachment',
  tableName: 'oncall_attachments',
  properties: {
    id: p.integer().primary().autoincrement(),
    message: () => p.manyToOne(Message).ref().index(),
    kind: p.enum(ATTACHMENT_KINDS),
    storageId: p.string().length(32).unique(),
    mime: p.string().length(64),
    name: p.string().length(120),
    bytes: p.integer(),
  },
});
export class Attachment extends AttachmentSchema.class {}
AttachmentSchema.setClass(Attachment);

export { ThreadSchema, MessageSchema, AttachmentSchema };
