import { defineEntity, p } from '@mikro-orm/core';
import { User } from '../accounts/index.ts';
import { Announcement } from './announcement.entity.ts';
import { Thread } from './thread.entity.ts';

export const NOTICE_KINDS = ['question', 'message', 'resolved', 'announcement'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

/**
 * Something new for one person, kept until they look at it. At most one unread notice per person
 * and thread (a second reply refreshes it), so the count in the menu is "threads with news".
 */
const NoticeSchema = defineEntity({
  name: 'Notice',
  tableName: 'oncall_notices',
  indexes: [
    // The menu's count on every page: an index holding only unread rows.
    { name: 'oncall_notices_unread_index', properties: ['user'], where: 'read_at is null' },
    { properties: ['user', 'createdAt'] },
  ],
  uniques: [{ name: 'oncall_notices_unread_thread_unique', properties: ['user', 'thread'], where: 'read_at is null and thread_id is not null' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    user: () => p.manyToOne(User).ref(),
    kind: p.enum(NOTICE_KINDS),
    thread: () => p.manyToOne(Thread).nullable().ref().deleteRule('cascade'),
    announcement: () => p.manyToOne(Announcement).nullable().ref().deleteRule('cascade'),
    /** Who caused it. */
    actor: () => p.manyToOne(User).nullable().ref().deleteRule('set null'),
    createdAt: p.datetime(),
    readAt: p.datetime().nullable(),
  },
});
export class Notice extends NoticeSchema.class {}
NoticeSchema.setClass(Notice);

export { NoticeSchema };
