/**
 * The "ask a teacher" box that other slices' pages (a lesson, an assignment) carry: the
 * view-model of the partial `views/partials/oncall/ask.hbs`. A page adds
 * `ask: await askFormFor(em, actor, 'lesson', lesson.id)` to its model and renders
 * `{{#if ask}}{{> oncall/ask ask}}{{/if}}`; only learners get a box.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
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
