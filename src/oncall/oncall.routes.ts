import type { MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import type { Actor } from '../platform/actor.ts';
import { can, requireActor, requireCapability } from '../platform/actor.ts';
import { sendStoredFile } from '../platform/downloads.ts';
import { InvalidInput } from '../platform/errors.ts';
import { formHandler, parseForm, parseParams } from '../platform/forms.ts';
import type { Storage } from '../platform/storage.ts';
import { checkUploads } from '../platform/upload-checks.ts';
import { receiveFiles } from '../platform/uploads.ts';
import { cohortsOfLearner, cohortsOfTeacher, listProgrammes } from '../programmes/index.ts';
import { listAnnouncements, postAnnouncement } from './announcements.service.ts';
import type { ContextLookup } from './contexts.ts';
import { clockText, durationText, weekdayNames } from './format.ts';
import { inAppNotices, listNotices, lowerUnreadCount, markAllRead, markAnnouncementsRead, markThreadRead, notifier, type NoticeChannel } from './notices.ts';
import { oncallCapabilities } from './oncall.policy.ts';
import { renewAskKey } from './ask-form.ts';
import { announcementSchema, contextParam, fileParam, idParam, periodSchema, questionSchema, replySchema, shiftSchema } from './oncall.schemas.ts';
import { responseTimes } from './response-times.service.ts';
import { addShift, removeShift, teacherShifts, upcomingWindows } from './rota.service.ts';
import type { ContextKind } from './thread.entity.ts';
import * as threads from './threads.service.ts';

export interface OncallDeps {
  orm: MikroORM;
  storage: Storage;
  contexts: Record<ContextKind, ContextLookup>;
  /** Ways of telling people about new answers and announcements; in-app when not given. */
  channels?: readonly NoticeChannel[];
  now?: () => Date;
}

/** "Uploads follow the same checks as assignment uploads": one photo and one voice note at most. */
export const ATTACHMENT_RULES = { kinds: ['image', 'audio'] as const, maxBytes: 10_000_000, maxFiles: 2 };
/** A short voice note: about three minutes as a phone records it. */
export const VOICE_MAX_BYTES = 3_000_000;

type T = (key: string, vars?: Record<string, unknown>) => string;

export function oncallRoutes(deps: OncallDeps) {
  const { orm, storage } = deps;
  const router = express.Router();
  const em = () => orm.em;
  const now = deps.now ?? (() => new Date());
  const notify = notifier(deps.channels ?? [inAppNotices]);
  const threadDeps = { notify, storage, now };
  const ask = requireCapability(oncallCapabilities, 'oncall:ask');
  const answer = requireCapability(oncallCapabilities, 'oncall:answer');
  const rota = requireCapability(oncallCapabilities, 'oncall:rota');
  const announce = requireCapability(oncallCapabilities, 'oncall:announce');
  const figures = requireCapability(oncallCapabilities, 'oncall:responseTimes');

  /** Reads the multipart form: its fields land on req.body, its files are checked by their bytes. */
  async function attachmentsOf(req: Request, res: Response): Promise<threads.NewAttachment[]> {
    const received = await receiveFiles(req, res, 'attachment', { maxBytes: ATTACHMENT_RULES.maxBytes, maxFiles: ATTACHMENT_RULES.maxFiles });
    if (received.problem) throw received.problem;
    const checked = await checkUploads(received.files, ATTACHMENT_RULES, 'attachment');
    const out = checked.map((f) => ({ kind: f.kind === 'image' ? ('photo' as const) : ('voice' as const), mime: f.mime, name: f.name, buffer: f.buffer }));
    if (out.filter((f) => f.kind === 'photo').length > 1 || out.filter((f) => f.kind === 'voice').length > 1) {
      throw new InvalidInput({ attachment: { key: 'oncall:attach.onePerKind' } });
    }
    const voice = checked.find((f) => f.kind === 'audio');
    if (voice && voice.originalBytes > VOICE_MAX_BYTES) {
      throw new InvalidInput({ attachment: { key: 'uploads:tooLarge', vars: { name: voice.name, max: VOICE_MAX_BYTES / 1_000_000 } } });
    }
    return out;
  }

  async function nextOnCall(actor: Actor) {
    const cohorts = await cohortsOfLearner(em(), actor.id);
    return upcomingWindows(em(), cohorts.map((c) => c.id), now());
  }

  // ── Learner: ask, and see one's own questions ────────────────────────────────────────────
  async function contextFor(req: Request, actor: Actor) {
    const { kind, id } = parseParams(contextParam, req.params);
    return deps.contexts[kind](em(), actor, id);
  }

  const askPage = {
    view: 'oncall/ask',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const context = await contextFor(req, actor);
      const cohorts = await threads.cohortChoices(em(), actor, context);
      return {
        title: 'oncall:ask.title',
        context,
        cohorts,
        chooseCohort: cohorts.length > 1,
        onCall: await nextOnCall(actor),
        action: `/ask/${context.kind}/${context.id}`,
        requestId: randomUUID(),
      };
    },
  };
  router.get('/ask/:kind/:id', ask, async (req, res) => res.render(askPage.view, await askPage.model(req, res)));
  router.post(
    '/ask/:kind/:id',
    ask,
    formHandler(askPage, async (req, res) => {
      const actor = requireActor(res);
      const context = await contextFor(req, actor);
      const attachments = await attachmentsOf(req, res);
      const { requestId, ...input } = parseForm(questionSchema, req.body);
      const thread = await threads.askQuestion(em(), actor, context, { ...input, attachments, requestKey: requestId }, threadDeps);
      renewAskKey(req);
      req.session.notice = { key: 'oncall:ask.sent' };
      res.redirect(303, `/questions/${thread.id}`);
    }),
  );

  router.get('/questions', ask, async (_req, res) => {
    const actor = requireActor(res);
    res.render('oncall/questions', { title: 'oncall:questions.title', threads: await threads.learnerThreads(em(), actor), onCall: await nextOnCall(actor) });
  });

  // ── Both sides: one thread ───────────────────────────────────────────────────────────────
  const threadPage = {
    view: 'oncall/thread',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const { id } = parseParams(idParam, req.params);
      const { thread, messages } = await threads.getThread(em(), actor, id);
      const learnerId = thread.learner.id;
      return {
        title: 'oncall:thread.title',
        asTeacher: actor.role === 'teacher',
        requestId: randomUUID(),
        thread: {
          id: thread.id,
          contextKind: thread.contextKind,
          contextTitle: thread.contextTitle,
          contextCourse: thread.contextCourse,
          contextUrl: thread.contextUrl,
          cohort: thread.cohort.getEntity().name,
          learner: thread.learner.getEntity().displayName,
          resolved: thread.status === 'resolved',
          resolvedAt: thread.resolvedAt,
          resolvedBy: thread.resolvedBy?.getEntity().displayName ?? null,
        },
        messages: messages.map((m) => ({
          id: m.id,
          author: m.author.getEntity().displayName,
          fromTeacher: m.author.id !== learnerId,
          mine: m.author.id === actor.id,
          body: m.body,
          at: m.createdAt,
          attachments: m.attachments.getItems().map((a) => ({ id: a.id, kind: a.kind, name: a.name, bytes: a.bytes, url: `/questions/${thread.id}/files/${a.id}` })),
        })),
      };
    },
  };
  router.get('/questions/:id', async (req, res) => {
    const model = await threadPage.model(req, res);
    lowerUnreadCount(res.locals, await markThreadRead(em(), requireActor(res), model.thread.id));
    res.render(threadPage.view, model);
  });
  router.post(
    '/questions/:id/messages',
    formHandler(threadPage, async (req, res) => {
      const actor = requireActor(res);
      const { id } = parseParams(idParam, req.params);
      await threads.assertWritable(em(), actor, id);
      const attachments = await attachmentsOf(req, res);
      const input = parseForm(replySchema, req.body);
      await threads.addMessage(em(), actor, id, { body: input.body, attachments, requestKey: input.requestId }, threadDeps);
      res.redirect(303, `/questions/${id}#latest`);
    }),
  );
  router.post('/questions/:id/resolve', async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    await threads.resolveThread(em(), requireActor(res), id, threadDeps);
    req.session.notice = { key: 'oncall:thread.resolvedNotice' };
    res.redirect(303, requireActor(res).role === 'teacher' ? '/inbox' : `/questions/${id}`);
  });
  router.get('/questions/:id/files/:fileId', async (req, res) => {
    const { id, fileId } = parseParams(fileParam, req.params);
    const attachment = await threads.attachmentFor(em(), requireActor(res), id, fileId);
    await sendStoredFile(res, storage, { storageId: attachment.storageId, name: attachment.name, mime: attachment.mime }, { inline: attachment.kind === 'photo' });
  });

  // ── Teacher: inbox, rota, announcements ──────────────────────────────────────────────────
  router.get('/inbox', answer, async (_req, res) => {
    const actor = requireActor(res);
    res.render('oncall/inbox', { title: 'oncall:inbox.title', threads: await threads.inbox(em(), actor) });
  });

  const rotaPage = {
    view: 'oncall/rota',
    model: async (_req: Request, res: Response) => {
      const actor = requireActor(res);
      const language = (res.locals.language as string | undefined) ?? 'en';
      const names = weekdayNames(language);
      const cohorts = await cohortsOfTeacher(em(), actor.id);
      return {
        title: 'oncall:rota.title',
        timeZone: actor.timeZone,
        cohorts: cohorts.map((c) => ({ id: c.id, name: c.name })),
        weekdays: names.map((name, i) => ({ value: i + 1, name })),
        shifts: (await teacherShifts(em(), actor)).map((s) => ({
          ...s,
          day: names[s.weekday - 1],
          from: clockText(s.start, language),
          to: clockText(s.end, language),
          otherZone: s.timeZone !== actor.timeZone,
        })),
      };
    },
  };
  router.get('/rota', rota, async (req, res) => res.render(rotaPage.view, await rotaPage.model(req, res)));
  router.post(
    '/rota',
    rota,
    formHandler(rotaPage, async (req, res) => {
      await addShift(em(), requireActor(res), parseForm(shiftSchema, req.body));
      req.session.notice = { key: 'oncall:rota.added' };
      res.redirect(303, '/rota');
    }),
  );
  router.post('/rota/:id/remove', rota, async (req, res) => {
    await removeShift(em(), requireActor(res), parseParams(idParam, req.params).id);
    res.redirect(303, '/rota');
  });

  const announcementsPage = {
    view: 'oncall/announcements',
    model: async (_req: Request, res: Response) => {
      const actor = requireActor(res);
      const canPost = can(oncallCapabilities, actor, 'oncall:announce');
      return {
        title: 'oncall:announcements.title',
        canPost,
        cohorts: canPost ? (await cohortsOfTeacher(em(), actor.id)).map((c) => ({ id: c.id, name: c.name })) : [],
        announcements: await listAnnouncements(em(), actor),
      };
    },
  };
  router.get('/announcements', async (req, res) => {
    const actor = requireActor(res);
    const model = await announcementsPage.model(req, res);
    if (actor.role === 'learner') lowerUnreadCount(res.locals, await markAnnouncementsRead(em(), actor));
    res.render(announcementsPage.view, model);
  });
  router.post(
    '/announcements',
    announce,
    formHandler(announcementsPage, async (req, res) => {
      await postAnnouncement(em(), requireActor(res), parseForm(announcementSchema, req.body), { notify, now });
      req.session.notice = { key: 'oncall:announcements.posted' };
      res.redirect(303, '/announcements');
    }),
  );

  // ── Everyone: notices ────────────────────────────────────────────────────────────────────
  router.get('/notices', async (_req, res) => {
    const actor = requireActor(res);
    res.render('oncall/notices', { title: 'oncall:notices.title', notices: await listNotices(em(), actor) });
  });
  router.post('/notices/read', async (_req, res) => {
    await markAllRead(em(), requireActor(res));
    res.redirect(303, '/notices');
  });

  // ── Coordinator: response times ──────────────────────────────────────────────────────────
  router.get('/response-times', figures, async (req, res) => {
    const actor = requireActor(res);
    const t = res.locals.t as T;
    const language = (res.locals.language as string | undefined) ?? 'en';
    const q = parseForm(periodSchema, req.query);
    const today = localDay(now(), actor.timeZone);
    const to = q.to ?? today;
    const from = q.from ?? localDay(new Date(Date.parse(`${to}T12:00:00Z`) - 29 * 86_400_000), 'UTC');
    const [first, last] = from <= to ? [from, to] : [to, from];
    const result = await responseTimes(em(), actor, { from: first, to: last, timeZone: actor.timeZone, programmeId: q.programme }, now());
    const show = (s: number | null) => (s === null ? t('oncall:times.none') : durationText(s, language));
    const row = <R extends { median: number | null; p90: number | null }>(r: R) => ({ ...r, medianText: show(r.median), p90Text: show(r.p90) });
    res.render('oncall/response-times', {
      title: 'oncall:times.title',
      period: { from: first, to: last, programme: q.programme },
      programmes: await listProgrammes(em(), actor),
      total: row(result.total),
      cohorts: result.cohorts.map(row),
      teachers: result.teachers.map(row),
      unanswered: result.unanswered,
    });
  });

  return router;
}

/** The calendar day (YYYY-MM-DD) an instant falls on in a time zone. */
function localDay(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}
