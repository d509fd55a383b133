/**
 * The "ask a teacher" box that other slices' pages (a lesson, an assignment) carry: the
 * view-model of the partial `views/partials/oncall/ask.hbs`. A page adds
 * `ask: await askFormFor(em, actor, 'lesson', lesson.id)` to its model and renders
 * `{{#if ask}}{{> oncall/ask ask}}{{/if}}`; only learners get a box.
 *
 * The box's form carries an idempotency key, `@root.askRequestId`, set for every learner's page
 * by `askKeys` (so a page that renders the partial with only `context` and `id` has it too).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Request, RequestHandler } from 'express';
import { randomUUID } from 'node:crypto';
import { can, type Actor } from '../platform/actor.ts';
import { cohortsOfLearner } from '../programmes/index.ts';
import { oncallCapabilities } from './oncall.policy.ts';
import { upcomingWindows, type OnCallWindow } from './rota.service.ts';
import type { ContextKind } from './thread.entity.ts';

export interface AskForm {
  context: ContextKind;
  id: number;
  /** The box says when a teacher is next there; `onCall` is null when no hours are set. */
  showOnCall: true;
  onCall: OnCallWindow | null;
}

export async function askFormFor(em: EntityManager, actor: Actor | undefined, kind: ContextKind, id: number, now = new Date()): Promise<AskForm | null> {
  if (!actor || !can(oncallCapabilities, actor, 'oncall:ask')) return null;
  const cohorts = await cohortsOfLearner(em, actor.id);
  const [onCall] = await upcomingWindows(em, cohorts.map((c) => c.id), now, 1);
  return { context: kind, id, showOnCall: true, onCall: onCall ?? null };
}

declare module 'express-session' {
  interface SessionData {
    /** The idempotency key of the "ask a teacher" box on lesson and assignment pages. */
    askKey: string;
  }
}

/**
 * Gives the box its key. A lesson page that has not changed is answered with 304 (see
 * src/courses/courses.routes.ts formKey), so the key is not drawn anew for every page: it is a
 * random id kept in the session and renewed once a question has been sent with it.
 */
export const askKeys: RequestHandler = (req, res, next) => {
  const actor = res.locals.currentUser as Actor | undefined;
  if (actor && can(oncallCapabilities, actor, 'oncall:ask')) res.locals.askRequestId = req.session.askKey ??= randomUUID();
  next();
};

/** After a question is stored: the next box drawn asks a new question. */
export function renewAskKey(req: Request) {
  req.session.askKey = randomUUID();
}
