/**
 * Counts the bytes Dars sends to each signed-in learner, per day of the learner's calendar.
 *
 * Cheap by design: a request adds a number to an in-memory counter; every few seconds (and at
 * shutdown) the counters go to the database in one multi-row upsert. What is measured is what
 * left the socket for the response — status line, headers and the compressed body — so the
 * figure is what the learner's data plan paid for.
 *
 * Attribution: the learner is known once the session has been read (res.locals.currentUser at
 * the end of the response). Static assets are served before the session is read; for them the
 * meter remembers which session cookie belonged to which learner on their last page, so no
 * database lookup is added to any request. Other servers (the SCORM content origin) call
 * `record()` with the learner they authorised themselves.
 */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { RequestHandler } from 'express';
import type { Socket } from 'node:net';
import { User } from '../accounts/index.ts';
import type { Actor } from '../platform/actor.ts';
import type { Logger } from '../platform/logger.ts';
import { SESSION_COOKIE } from '../platform/security.ts';
import { todayIn } from './periods.ts';

export interface MeterOptions {
  /** How often counters are written; they are also written by flush() and stop(). */
  flushIntervalMs?: number;
  /** Session cookies remembered for attributing assets (oldest forgotten first). */
  maxSessions?: number;
  logger?: Pick<Logger, 'warn'>;
}

export interface Meter {
  middleware: RequestHandler;
  record(learnerId: number, bytes: number, at?: Date): void;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Counters are kept per quarter hour, so each lands on the right local day in every time zone (Kathmandu is UTC+5:45). */
const SLOT_MS = 15 * 60 * 1000;
/** Rows per INSERT statement; PostgreSQL takes at most 65535 parameters. */
const ROWS_PER_STATEMENT = 5000;

export function createMeter(orm: MikroORM, opts: MeterOptions = {}): Meter {
  const maxSessions = opts.maxSessions ?? 50_000;
  /** learner → slot → bytes */
  let pending = new Map<number, Map<number, number>>();
  const timeZones = new Map<number, string>();
  const sessions = new Map<string, number>();
  let flushing: Promise<void> = Promise.resolve();
  let stopped = false;

  function record(learnerId: number, bytes: number, at = new Date()) {
    if (!Number.isInteger(learnerId) || learnerId <= 0 || !(bytes > 0)) return;
    const slot = Math.floor(at.getTime() / SLOT_MS);
    let slots = pending.get(learnerId);
    if (!slots) pending.set(learnerId, (slots = new Map()));
    slots.set(slot, (slots.get(slot) ?? 0) + Math.round(bytes));
  }

  function remember(cookie: string, learnerId: number) {
    if (sessions.get(cookie) === learnerId) return;
    sessions.delete(cookie);
    sessions.set(cookie, learnerId);
    if (sessions.size > maxSessions) sessions.delete(sessions.keys().next().value!);
  }

  const middleware: RequestHandler = (req, res, next) => {
    const cookie = sessionCookie(req.headers.cookie);
    const socket = req.socket;
    // A pipelined response gets the socket only when the one before it is done.
    let start: number | undefined = res.socket ? socket.bytesWritten : undefined;
    if (start === undefined) res.once('socket', (s: Socket) => (start = s.bytesWritten));
    let counted = false;
    const count = () => {
      if (counted || start === undefined) return;
      counted = true;
      const actor = res.locals.currentUser as Actor | undefined;
      let learnerId: number | undefined;
      if (actor) {
        if (actor.role !== 'learner') return;
        learnerId = actor.id;
        timeZones.set(actor.id, actor.timeZone);
        if (cookie) remember(cookie, actor.id);
      } else if (cookie) {
        learnerId = sessions.get(cookie);
      }
      if (learnerId) record(learnerId, socket.bytesWritten - start);
    };
    res.once('finish', count);
    res.once('close', count);
    next();
  };

  async function write(batch: Map<number, Map<number, number>>) {
    const em = orm.em.fork();
    await learnTimeZones(em, [...batch.keys()].filter((id) => !timeZones.has(id)));
    const days = new Map<string, { learnerId: number; day: string; bytes: number }>();
    for (const [learnerId, slots] of batch) {
      const zone = timeZones.get(learnerId);
      if (!zone) continue; // no such learner: nothing to attribute the bytes to
      for (const [slot, bytes] of slots) {
        const day = todayIn(zone, new Date(slot * SLOT_MS));
        const key = `${learnerId}|${day}`;
        const row = days.get(key) ?? { learnerId, day, bytes: 0 };
        row.bytes += bytes;
        days.set(key, row);
      }
    }
    const rows = [...days.values()];
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
      await em.execute(
        `INSERT INTO data_usage (learner_id, day, bytes) VALUES ${chunk.map(() => '(?, ?::date, ?)').join(', ')}
         ON CONFLICT (learner_id, day) DO UPDATE SET bytes = data_usage.bytes + excluded.bytes`,
        chunk.flatMap((r) => [r.learnerId, r.day, r.bytes]),
      );
    }
  }

  async function learnTimeZones(em: EntityManager, ids: number[]) {
    if (ids.length === 0) return;
    const users = await em.find(User, { id: { $in: ids } }, { fields: ['id', 'timeZone'] });
    for (const u of users) timeZones.set(u.id, u.timeZone);
  }

  function flush(): Promise<void> {
    // One write at a time, in order; a write that fails puts its counts back for the next one.
    flushing = flushing.then(async () => {
      if (pending.size === 0) return;
      const batch = pending;
      pending = new Map();
      try {
        await write(batch);
      } catch (err) {
        for (const [learnerId, slots] of batch) for (const [slot, bytes] of slots) record(learnerId, bytes, new Date(slot * SLOT_MS));
        opts.logger?.warn({ err }, 'data usage not written; will try again');
        if (stopped) throw err;
      }
    });
    return flushing;
  }

  const timer = setInterval(() => void flush(), opts.flushIntervalMs ?? 5000);
  timer.unref();

  return {
    middleware,
    record,
    flush,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await flush();
    },
  };
}

function sessionCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const prefix = `${SESSION_COOKIE}=`;
  for (const part of header.split(';')) {
    const p = part.trim();
    if (p.startsWith(prefix)) return p.slice(prefix.length) || undefined;
  }
  return undefined;
}
