import type { MikroORM } from '@mikro-orm/postgresql';
import express, { type Request, type RequestHandler, type Response } from 'express';
import multer from 'multer';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { can, requireActor, requireCapability } from '../platform/actor.ts';
import { InvalidInput } from '../platform/errors.ts';
import { formHandler, parseForm, parseParams, type FormPage } from '../platform/forms.ts';
import type { TokenSigner } from './launch-token.ts';
import { commitSchema, importSchema, learnerParams, lessonParam, partQuery } from './scorm.schemas.ts';
import { scormCapabilities } from './scorm.policy.ts';
import * as scorm from './scorm.service.ts';

export interface ScormDeps {
  orm: MikroORM;
  signer: TokenSigner;
  appOrigin: string;
  contentOrigin: string;
  dataDir: string;
  maxZipBytes: number;
}

type T = (k: string, v?: Record<string, unknown>) => string;
const STATUS_KEYS: Record<string, string> = {
  'not attempted': 'notAttempted',
  incomplete: 'incomplete',
  completed: 'completed',
  unknown: 'unknown',
  passed: 'passed',
  failed: 'failed',
  browsed: 'browsed',
};
const statusText = (t: T, status: string) => t(`scorm:status.${STATUS_KEYS[status] ?? 'unknown'}`);
const timeText = (t: T, seconds: number) => t('scorm:time', { hours: Math.floor(seconds / 3600), minutes: String(Math.floor((seconds % 3600) / 60)).padStart(2, '0') });

/** Paths of the commit endpoint: authorised by a launch token, not the session (see isCsrfExempt in app.ts). */
export const COMMIT_PATH = '/scorm/commit';

export function scormRoutes(deps: ScormDeps) {
  const { orm, signer } = deps;
  const router = express.Router();
  const em = () => orm.em;
  const importer = requireCapability(scormCapabilities, 'scorm:import');
  const follow = requireCapability(scormCapabilities, 'scorm:follow');

  // --- Staff: the SCORM lessons they follow, and adding a package -------------------------------
  const indexPage: FormPage = {
    view: 'scorm/index',
    model: async (_req: Request, res: Response) => {
      const overview = await scorm.staffOverview(em(), requireActor(res));
      return { title: 'scorm:index.title', ...overview, maxMb: Math.round(deps.maxZipBytes / (1024 * 1024)) };
    },
  };
  router.get('/scorm', importer, async (req, res) => res.render(indexPage.view, await indexPage.model(req, res)));
  router.post(
    '/scorm',
    importer,
    receiveZip(deps.dataDir, deps.maxZipBytes, indexPage),
    formHandler(indexPage, async (req, res) => {
      try {
        const form = parseForm(importSchema, req.body);
        if (!req.file) throw new InvalidInput({ file: { key: 'scorm:problems.noFile' } });
        const [courseId, unitId] = form.place.split(':').map(Number) as [number, number];
        const pkg = await scorm.importPackage(em(), requireActor(res), { courseId, unitId, title: form.title, file: req.file }, { dataDir: deps.dataDir, maxZipBytes: deps.maxZipBytes });
        req.session.notice = { key: 'scorm:index.imported', vars: { title: pkg.title } };
        res.redirect(303, `/scorm/lessons/${pkg.lesson.id}/report`);
      } finally {
        if (req.file) await rm(req.file.path, { force: true });
      }
    }),
  );

  // --- Learners: the lesson with its table of contents and the player -------------------------
  router.get('/scorm/lessons/:lessonId', async (req, res) => {
    const { lessonId } = parseParams(lessonParam, req.params);
    const actor = requireActor(res);
    // Staff follow the lesson from its report (if it is theirs to follow); only learners open sittings.
    if (!can(scormCapabilities, actor, 'scorm:play')) {
      await scorm.assertFollows(em(), actor, lessonId);
      return res.redirect(303, `/scorm/lessons/${lessonId}/report`);
    }
    const { part } = parseParams(partQuery, req.query);
    const t = res.locals.t as T;
    const opened = await scorm.openLesson(em(), actor, lessonId, part);
    const token = opened.launch ? signer.launchToken(opened.launch) : null;
    const link = (e: scorm.TocEntry | null) => (e ? { href: `/scorm/lessons/${lessonId}?part=${e.id}`, title: e.title, identifier: e.identifier } : null);
    res.render('scorm/lesson', {
      title: 'scorm:lesson.title',
      lesson: opened.lesson,
      multi: opened.multi,
      toc: opened.toc.map((e) => ({ ...e, href: `/scorm/lessons/${lessonId}?part=${e.id}`, depthClass: `d${Math.min(e.depth, 3)}`, statusText: statusText(t, e.status) })),
      current: opened.current,
      // A lesson of one part has no table of contents: its status is shown under the title instead.
      currentStatus: opened.current && !opened.multi ? statusText(t, opened.current.status) : null,
      previous: link(opened.previous),
      next: link(opened.next),
      playerUrl: token ? `${deps.contentOrigin}/play/${token}?lng=${encodeURIComponent(String(res.locals.language ?? 'en'))}` : null,
      contentOrigin: deps.contentOrigin,
    });
  });

  // --- Teachers and coordinators ---------------------------------------------------------------
  router.get('/scorm/lessons/:lessonId/report', follow, async (req, res) => {
    const { lessonId } = parseParams(lessonParam, req.params);
    const t = res.locals.t as T;
    const report = await scorm.lessonReport(em(), requireActor(res), lessonId);
    res.render('scorm/report', {
      title: 'scorm:report.title',
      lesson: report.lesson,
      version: report.version,
      packageTitle: report.title,
      schemaVersion: report.schemaVersion,
      parts: report.parts.map((p) => ({
        ...p,
        depthClass: `d${Math.min(p.depth, 3)}`,
        learners: p.learners.map((l) => ({ ...l, statusText: statusText(t, l.status), timeText: timeText(t, l.seconds), href: `/scorm/lessons/${lessonId}/learners/${l.id}` })),
      })),
    });
  });

  router.get('/scorm/lessons/:lessonId/learners/:learnerId', follow, async (req, res) => {
    const { lessonId, learnerId } = parseParams(learnerParams, req.params);
    const t = res.locals.t as T;
    const answers = await scorm.learnerAnswers(em(), requireActor(res), lessonId, learnerId);
    res.render('scorm/answers', {
      title: 'scorm:answers.title',
      lesson: answers.lesson,
      learner: answers.learner,
      reportUrl: `/scorm/lessons/${lessonId}/report`,
      parts: answers.parts.map((p) => ({
        ...p,
        attempts: p.attempts.map((a) => ({
          ...a,
          statusText: statusText(t, a.status),
          timeText: timeText(t, a.seconds),
          interactions: a.interactions.map((i) => ({ ...i, resultText: resultText(t, i.result) })),
        })),
      })),
    });
  });

  // --- The runtime's commits, from the player on the content origin ---------------------------
  const cors: RequestHandler = (req, res, next) => {
    const origin = req.get('Origin');
    // Browsers name the page's origin; a page from anywhere but the content origin is turned away.
    if (origin !== undefined && origin !== deps.contentOrigin) return res.status(403).json({ result: false, errorCode: 101 });
    if (origin) res.set({ 'Access-Control-Allow-Origin': deps.contentOrigin, 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'Content-Type', 'Access-Control-Max-Age': '86400' });
    res.vary('Origin');
    res.set('Cache-Control', 'no-store');
    next();
  };
  router.options(COMMIT_PATH, cors, (_req, res) => {
    res.status(204).end();
  });
  router.post(COMMIT_PATH, cors, express.text({ type: () => true, limit: '4mb' }), async (req, res) => {
    // The final commit is a beacon: text/plain, no custom headers. Every commit is read the same way.
    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof req.body === 'string' ? req.body : '');
    } catch {
      return res.status(400).json({ result: false, errorCode: 101 });
    }
    const body = commitSchema.safeParse(parsed);
    if (!body.success) return res.status(400).json({ result: false, errorCode: 101 });
    const claims = signer.readLaunchToken(body.data.token);
    if (!claims) return res.status(401).json({ result: false, errorCode: 101 });
    const outcome = await scorm.receiveCommit(em(), claims, body.data, Buffer.byteLength(req.body as string));
    if (outcome.status === 'refused') return res.status(403).json({ result: false, errorCode: 101 });
    if (outcome.status === 'invalid') return res.status(422).json({ result: false, errorCode: 101, problems: outcome.problems });
    res.json({ result: true, errorCode: 0, outcome: outcome.status, token: signer.launchToken(claims) });
  });

  return router;
}

function resultText(t: T, result: string) {
  if (['correct', 'incorrect', 'wrong', 'unanticipated', 'neutral'].includes(result)) return t(`scorm:result.${result === 'wrong' ? 'incorrect' : result}`);
  return result;
}

/**
 * The zip goes to a temporary file on disk as it arrives (never into memory), within the size
 * limit; going past it is a form problem shown beside the file field.
 */
function receiveZip(dataDir: string, maxZipBytes: number, page: FormPage): RequestHandler {
  // Beside the packages, not in /tmp: a 200 MB upload should not fill a small memory-backed /tmp.
  const dir = path.join(scorm.packagesDir(dataDir), '.incoming');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const upload = multer({
    storage: multer.diskStorage({ destination: dir, filename: (_req, _file, cb) => cb(null, `${randomBytes(16).toString('hex')}.zip`) }),
    limits: { fileSize: maxZipBytes, files: 1, fields: 10, fieldSize: 4096, parts: 12 },
  }).single('file');
  return (req, res, next) =>
    upload(req, res, (err?: unknown) => {
      if (!err) return next();
      if (!(err instanceof multer.MulterError)) return next(err);
      req.file = undefined;
      const problem =
        err.code === 'LIMIT_FILE_SIZE'
          ? { key: 'scorm:problems.zipTooLarge', vars: { max: Math.round(maxZipBytes / (1024 * 1024)) } }
          : { key: 'scorm:problems.noFile' };
      // Shown on the form page like any other problem, with what was typed kept.
      Promise.resolve(
        formHandler(page, () => {
          throw new InvalidInput({ file: problem });
        })(req, res, next),
      ).catch(next);
    });
}
