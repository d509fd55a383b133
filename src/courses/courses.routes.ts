/**
 * The course pages: a learner's catalogue, a course outline, a lesson (read, listen, watch or
 * answer), "done" and quiz forms that work as plain POSTs, quiz results, a cohort's progress for
 * its teachers and coordinators, and the course media files.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import express, { type Request, type RequestHandler, type Response } from 'express';
import path from 'node:path';
import { z } from 'zod';
import { can, requireActor, requireCapability } from '../platform/actor.ts';
import { formHandler, parseForm, parseParams } from '../platform/forms.ts';
import { formatBytes } from '../platform/views.ts';
import type { ImageVariants, Quiz } from './course.entity.ts';
import { courseCapabilities } from './courses.policy.ts';
import { MEDIA_NAME, mediaDir } from './media.ts';
import { answerField } from './quiz.ts';
import { imageTag, tapToShow, withTapLabels } from './render.ts';
import * as study from './study.service.ts';

export interface CoursesDeps {
  orm: MikroORM;
  /** DATA_DIR: course media lives under files/course-media/ (see course import). */
  dataDir: string;
}

type T = (key: string, vars?: Record<string, unknown>) => string;

const dbId = z.coerce.number().int().positive().max(2_147_483_647);
const idParam = z.object({ id: dbId });
const offerSchema = z.object({ cohortId: z.preprocess((v) => (v === '' ? undefined : v), dbId) });
/** Made by the page (see formKey); a form without a well-formed one is refused rather than counted twice. */
const requestIdSchema = z.object({ requestId: z.string('courses:quiz.reload').regex(/^[a-z0-9-]{1,64}$/, 'courses:quiz.reload') });

/**
 * The idempotency key a lesson page puts in its forms. It names the learner's next attempt at this
 * lesson, so the same page sent twice (a double tap, an answer queued offline and sent again) is
 * one attempt while a retry after seeing the result is a new one. It is derived rather than
 * random so that an unchanged page renders byte for byte the same and can be answered with a 304.
 */
function formKey(lessonId: number, attempts: number) {
  return `l${lessonId}-a${attempts + 1}`;
}

/** A lesson page asked for ahead of time (offline reading): shown, but not counted as a visit. */
function isPrefetch(req: Request) {
  return /prefetch/i.test(req.get('Sec-Purpose') ?? req.get('Purpose') ?? '') || req.get('X-Dars-Prefetch') === '1';
}

function tapLabel(t: T, language: string) {
  return (kind: 'image' | 'video', bytes: number) => t(kind === 'image' ? 'courses:media.tapImage' : 'courses:media.tapVideo', { size: formatBytes(bytes, language) });
}

/** Course or lesson images: small WebP variants, lazy; folded behind a tap for learners who save data. */
function imageHtml(v: ImageVariants, alt: string, dataSaver: boolean, label: ReturnType<typeof tapLabel>) {
  const tag = imageTag(v, alt);
  return dataSaver ? withTapLabels(tapToShow(tag, v.bytes, 'image'), label) : tag;
}

/** The quiz as a form: no correct answers in it; what the learner sent is kept when it comes back with errors. */
function quizForm(quiz: Quiz, sent: Record<string, unknown>) {
  const given = (name: string) => {
    const v = sent[name];
    return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String);
  };
  return quiz.questions.map((q, i) => {
    const name = answerField(q.id);
    const chosen = given(name);
    return {
      ordinal: i + 1,
      name,
      prompt: q.prompt,
      fill: q.type === 'fill',
      multiple: q.type === 'multiple',
      value: q.type === 'fill' ? (chosen[0] ?? '') : '',
      options: q.options.map((o) => ({ id: o.id, text: o.text, checked: chosen.includes(o.id), domId: `${name}-${o.id}` })),
    };
  });
}

export function coursesRoutes({ orm, dataDir }: CoursesDeps) {
  const router = express.Router();
  const em = () => orm.em;
  const follow = requireCapability(courseCapabilities, 'courses:follow');
  const offer = requireCapability(courseCapabilities, 'courses:offer');
  const studyCap = requireCapability(courseCapabilities, 'courses:study');
  const signedIn: RequestHandler = (_req, res, next) => {
    requireActor(res);
    next();
  };
  const tOf = (res: Response) => res.locals.t as T;

  // ── Catalogue and course page ──────────────────────────────────────────────────────────────
  router.get('/courses', signedIn, async (_req, res) => {
    const actor = requireActor(res);
    const courses = await study.catalogue(em(), actor);
    res.render('courses/catalogue', {
      title: 'courses:catalogue.title',
      learner: actor.role === 'learner',
      courses,
    });
  });

  const coursePage = {
    view: 'courses/course',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const { id } = parseParams(idParam, req.params);
      const outline = await study.courseOutline(em(), actor, id);
      const staff = can(courseCapabilities, actor, 'courses:follow');
      const label = tapLabel(tOf(res), res.locals.language as string);
      return {
        title: 'courses:course.title',
        learner: actor.role === 'learner',
        ...outline,
        // The next lessons not yet done, marked for the offline reader to keep (views/assets/offline.js).
        units: outline.units.map((u) => ({ ...u, lessons: u.lessons.map((l) => ({ ...l, keep: outline.offline.includes(l.url) })) })),
        imageHtml: outline.course.image ? imageHtml(outline.course.image, '', actor.dataSaver, label) : null,
        offers: staff ? await study.offersOf(em(), actor, id) : null,
        canOffer: can(courseCapabilities, actor, 'courses:offer'),
      };
    },
  };
  router.get('/courses/:id', signedIn, async (req, res) => res.render(coursePage.view, await coursePage.model(req, res)));
  router.post(
    '/courses/:id/offers',
    offer,
    formHandler(coursePage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      const actor = requireActor(res);
      // A course they cannot see is a 404 whatever the form holds.
      await study.courseFor(em(), actor, id);
      const { cohortId } = parseForm(offerSchema, req.body);
      const cohort = await study.offerCourse(em(), actor, id, cohortId);
      req.session.notice = { key: 'courses:offers.offered', vars: { cohort: cohort.name } };
      res.redirect(303, `/courses/${id}`);
    }),
  );
  router.post('/courses/:id/offers/:cohortId/withdraw', offer, async (req, res) => {
    const { id, cohortId } = parseParams(z.object({ id: dbId, cohortId: dbId }), req.params);
    const cohort = await study.withdrawOffer(em(), requireActor(res), id, cohortId);
    req.session.notice = { key: 'courses:offers.withdrawn', vars: { cohort: cohort.name } };
    res.redirect(303, `/courses/${id}`);
  });

  // ── Lesson page ────────────────────────────────────────────────────────────────────────────
  async function lessonModel(req: Request, res: Response, opts: { recordVisit: boolean; sent: Record<string, unknown> }) {
    const actor = requireActor(res);
    const { id } = parseParams(idParam, req.params);
    const page = await study.lessonPage(em(), actor, id, { recordVisit: opts.recordVisit });
    const { lesson } = page;
    const t = tOf(res);
    const language = res.locals.language as string;
    const label = tapLabel(t, language);
    // A video's poster and player are only put on the page once the learner taps to load it.
    const open = typeof req.query.media === 'string' ? Number(req.query.media) : -1;
    const media = lesson.media.map((m, i) => ({
      index: i,
      kind: m.kind,
      audio: m.kind === 'audio',
      video: m.kind === 'video',
      image: m.kind === 'image',
      url: m.url,
      mime: m.mime,
      bytes: m.bytes,
      title: m.title,
      transcript: m.transcript,
      open: m.kind === 'video' && open === i,
      poster: m.poster ? m.poster.url : null,
      imageHtml: m.image ? imageHtml(m.image, m.title ?? '', actor.dataSaver, label) : null,
    }));
    const learner = actor.role === 'learner';
    return {
      title: lesson.type === 'quiz' ? 'courses:lesson.quizTitle' : 'courses:lesson.title',
      learner,
      lesson: { id: lesson.id, title: lesson.title, type: lesson.type, minutes: lesson.minutes, quiz: lesson.type === 'quiz', markable: ['text', 'audio', 'video'].includes(lesson.type) },
      course: { title: page.courseTitle, url: `/courses/${lesson.courseId}` },
      unitTitle: page.unitTitle,
      position: page.number,
      of: page.of,
      previous: page.previous,
      next: page.next,
      done: page.done,
      bestScore: page.bestScore,
      attempts: page.attempts,
      lastAttemptUrl: page.lastAttemptUrl,
      bodyHtml: withTapLabels(lesson.bodyHtml, label),
      media,
      questions: lesson.quiz ? quizForm(lesson.quiz, opts.sent) : [],
      passScore: lesson.quiz?.passScore ?? null,
      requestId: formKey(lesson.id, page.attempts),
    };
  }

  router.get('/lessons/:id', signedIn, async (req, res) => {
    const actor = requireActor(res);
    const model = await lessonModel(req, res, { recordVisit: actor.role === 'learner' && !isPrefetch(req), sent: {} });
    if (model.lesson.type === 'scorm') return res.redirect(303, `/scorm/lessons/${model.lesson.id}`);
    res.render('courses/lesson', model);
  });

  router.post('/lessons/:id/done', studyCap, async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    const result = await study.markDone(em(), requireActor(res), id);
    req.session.notice = result.courseComplete ? { key: 'courses:lesson.courseDone' } : { key: 'courses:lesson.markedDone', vars: { title: result.title } };
    res.redirect(303, result.next?.url ?? `/courses/${result.courseId}`);
  });

  const quizPage = {
    view: 'courses/lesson',
    // Shown again with the learner's answers and what to fix; not a new visit.
    model: (req: Request, res: Response) => lessonModel(req, res, { recordVisit: false, sent: (req.body ?? {}) as Record<string, unknown> }),
  };
  router.post(
    '/lessons/:id/quiz',
    studyCap,
    formHandler(quizPage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      const { requestId } = parseForm(requestIdSchema, req.body);
      const attemptId = await study.submitQuiz(em(), requireActor(res), id, req.body as Record<string, unknown>, requestId);
      res.redirect(303, `/lessons/${id}/attempts/${attemptId}`);
    }),
  );

  router.get('/lessons/:id/attempts/:attemptId', studyCap, async (req, res) => {
    const { id, attemptId } = parseParams(z.object({ id: dbId, attemptId: dbId }), req.params);
    const r = await study.attemptResult(em(), requireActor(res), id, attemptId);
    res.render('courses/attempt', {
      title: 'courses:attempt.title',
      lesson: { id: r.lesson.id, title: r.lesson.title, url: `/lessons/${r.lesson.id}` },
      course: { title: r.courseTitle, url: `/courses/${r.lesson.course.id}` },
      score: r.score,
      passed: r.passed,
      passScore: r.passScore,
      submittedAt: r.submittedAt,
      questions: r.questions.map((q, i) => ({ ...q, ordinal: i + 1 })),
      next: r.next,
    });
  });

  // ── Progress of a cohort, for its teachers and its programme's coordinators ───────────────
  router.get('/cohorts/:id/courses/:courseId/progress', follow, async (req, res) => {
    const { id, courseId } = parseParams(z.object({ id: dbId, courseId: dbId }), req.params);
    const p = await study.cohortProgress(em(), requireActor(res), id, courseId);
    res.render('courses/progress', {
      title: 'courses:progress.title',
      ...p,
      lessons: p.lessons.map(({ number, ...l }) => ({ ...l, ordinal: number })),
      learners: p.learners.map((l) => ({ ...l, cells: l.cells.map((c) => ({ ...c, hasScore: c.score !== null })) })),
    });
  });

  // ── Media: named by the hash of their bytes, so a phone keeps each file for a year ─────────
  const dir = mediaDir(path.join(dataDir, 'files'));
  router.get('/media/:file', signedIn, (req, res, next) => {
    const { file } = req.params as { file: string };
    if (!MEDIA_NAME.test(file)) return next();
    // Private: only signed-in learners and staff fetch it, but it never changes under its name.
    res.set('Cache-Control', 'private, max-age=31536000, immutable');
    res.sendFile(path.join(dir, file), { cacheControl: false, dotfiles: 'deny' }, (err) => {
      if (err && !res.headersSent) next();
    });
  });

  return router;
}
