/**
 * Notices: telling people something new is waiting for them. Each way of telling is a
 * NoticeChannel; the in-app channel (an unread count in the menu, a list on /notices) needs
 * nothing outside Dars and is always on. A web-push channel can be added beside it later: it
 * implements the same interface and is handed to oncallRoutes in app.ts.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReadWithUser } from '../accounts/index.ts';
import type { Actor } from '../platform/actor.ts';
import { Notice, type NoticeKind } from './notice.entity.ts';

export interface NoticeEvent {
  kind: NoticeKind;
  /** User ids; the one who caused the event is never among them. */
  recipients: number[];
  actorId: number;
  threadId?: number;
  announcementId?: number;
  at: Date;
}

export interface NoticeChannel {
  readonly name: string;
  /**
   * Called inside the transaction that wrote the event, so an in-app notice exists exactly when
   * its fact does. A channel that talks to the outside world (push) should queue here and send
   * after commit, never block the request on a remote service.
   */
  deliver(em: EntityManager, event: NoticeEvent): Promise<void>;
}

/** The default channel: rows in oncall_notices, read by the menu count and the notices page. */
export const inAppNotices: NoticeChannel = {
  name: 'in-app',
  async deliver(em, event) {
    if (event.recipients.length === 0) return;
    const params: unknown[] = [];
    const rows = event.recipients.map((userId) => {
      params.push(userId, event.kind, event.threadId ?? null, event.announcementId ?? null, event.actorId, event.at);
      return '(?, ?, ?, ?, ?, ?)';
    });
    // One unread notice per person and thread: a newer message refreshes it instead of adding one.
    await em.execute(
      `INSERT INTO oncall_notices (user_id, kind, thread_id, announcement_id, actor_id, created_at) VALUES ${rows.join(', ')}
       ON CONFLICT (user_id, thread_id) WHERE read_at IS NULL AND thread_id IS NOT NULL
       DO UPDATE SET kind = excluded.kind, actor_id = excluded.actor_id, created_at = excluded.created_at`,
      params,
    );
  },
};

export type Notify = (em: EntityManager, event: Omit<NoticeEvent, 'recipients'> & { recipients: Iterable<number> }) => Promise<void>;

/** Sends an event through every channel, leaving out whoever caused it. */
export function notifier(channels: readonly NoticeChannel[]): Notify {
  return async (em, event) => {
    const recipients = [...new Set(event.recipients)].filter((id) => id !== event.actorId);
    for (const channel of channels) await channel.deliver(em, { ...event, recipients });
  };
}

/** Counting stops here: the menu shows "99+" and the query never walks a long backlog. */
export const UNREAD_CAP = 99;

/**
 * `unreadNotices` on res.locals for the menu, read with the signed-in user's row (see
 * loadCurrentUser in src/accounts): a count on a partial index that holds only unread rows, capped.
 */
export const unreadNoticeCount: ReadWithUser = {
  sql: `SELECT count(*)::int FROM (SELECT 1 FROM oncall_notices WHERE user_id = users.id AND read_at IS NULL LIMIT ${UNREAD_CAP + 1}) unread`,
  apply: (locals, value) => {
    const n = typeof value === 'number' ? value : 0;
    locals.unreadNotices = n > UNREAD_CAP ? `${UNREAD_CAP}+` : n || null;
  },
};

export interface NoticeView {
  id: number;
  kind: NoticeKind;
  unread: boolean;
  at: Date;
  actorName: string | null;
  title: string | null;
  url: string;
}

/** The newest notices of the actor, unread first. */
export async function listNotices(em: EntityManager, actor: Actor, limit = 40): Promise<NoticeView[]> {
  const notices = await em.find(
    Notice,
    { user: actor.id },
    { populate: ['actor', 'thread', 'announcement', 'announcement.cohort'], orderBy: [{ readAt: 'asc nulls first' }, { createdAt: 'desc' }], limit },
  );
  return notices.map((n) => {
    const thread = n.thread?.getEntity();
    const announcement = n.announcement?.getEntity();
    return {
      id: n.id,
      kind: n.kind,
      unread: !n.readAt,
      at: n.createdAt,
      actorName: n.actor?.getEntity().displayName ?? null,
      title: thread ? thread.contextTitle : (announcement?.cohort.getEntity().name ?? null),
      url: thread ? `/questions/${thread.id}` : '/announcements',
    };
  });
}

/** Returns how many notices became read, so the page being shown can lower the menu's count. */
export async function markThreadRead(em: EntityManager, actor: Actor, threadId: number): Promise<number> {
  return em.nativeUpdate(Notice, { user: actor.id, thread: threadId, readAt: null }, { readAt: new Date() });
}

export async function markAnnouncementsRead(em: EntityManager, actor: Actor): Promise<number> {
  return em.nativeUpdate(Notice, { user: actor.id, kind: 'announcement', readAt: null }, { readAt: new Date() });
}

/** The count was read before the page marked notices as read; the page shows the count after. */
export function lowerUnreadCount(locals: Record<string, unknown>, by: number) {
  if (by > 0 && typeof locals.unreadNotices === 'number') locals.unreadNotices = locals.unreadNotices - by || null;
}

export async function markAllRead(em: EntityManager, actor: Actor) {
  await em.nativeUpdate(Notice, { user: actor.id, readAt: null }, { readAt: new Date() });
}
