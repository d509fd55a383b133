/**
 * createApp: the order every request passes through, every slice mounted, one error handler.
 * Nothing listens here; src/server.ts does that.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import { RequestContext } from '@mikro-orm/postgresql';
import compression from 'compression';
import cluster from 'node:cluster';
import express, { type ErrorRequestHandler, type Express } from 'express';
import type { i18n } from 'i18next';
import type pg from 'pg';
import { accountsRoutes, languageChoices, loadCurrentUser, requireFreshPassword } from './accounts/index.ts';
import { assignmentsHomeSection, assignmentsRoutes, submissionsBy } from './assignments/index.ts';
import { allowancesRoutes, dataAllowanceSection, profileDataUsage, type EligibilityFacts, type Meter } from './allowances/index.ts';
import type { Config } from './config.ts';
import { coursesHomeSection, coursesRoutes, lessonsCompletedBy, offlineRoutes, studySecondsBy } from './courses/index.ts';
import { certificateIssuer, certificatesHomeSection, certificatesRoutes, releasedAssignmentPercents } from './certificates/index.ts';
import { coordinatorProgrammes, homeRoutes, learnerCohorts, teacherCohorts } from './home/index.ts';
import { askFormFor, askKeys, contextLookups, oncallHomeSection, oncallRoutes, unreadNoticeCount } from './oncall/index.ts';
import { buildAssets } from './platform/assets.ts';
import { AppError, InvalidInput, SignInRequired } from './platform/errors.ts';
import { i18nMiddleware } from './platform/i18n.ts';
import { requestLogging, type Logger } from './platform/logger.ts';
import { csrf, isCsrfError, markInvalidUtf8, noStoreWhenSignedIn, rateLimiter, rejectUnstorableText, securityHeaders, sessions } from './platform/security.ts';
import { fileStorage } from './platform/storage.ts';
import { setupViews } from './platform/views.ts';
import { programmesRoutes, usersInProgrammesOf } from './programmes/index.ts';
import { reportsRoutes } from './reports/index.ts';
import { COMMIT_PATH, createContentOrigin, scormRoutes, tokenSigner } from './scorm/index.ts';

export interface AppDeps {
  config: Config;
  orm: MikroORM;
  /** A small pool beside the ORM's, for the session store and rate limits. */
  pool: pg.Pool;
  logger: Logger;
  i18n: i18n;
  /** Counts bytes sent to learners (src/allowances/metering.ts); made by server.ts so it can be flushed at shutdown. */
  meter?: Meter;
}

export function createApp(deps: AppDeps): Express {
  const { config, orm, pool, logger } = deps;
  // When PostgreSQL closes an idle pooled connection (a restart, a failover), the pool emits
  // 'error'; with no listener Node ends the whole process. The pool has already dropped that
  // connection and opens a new one for the next query, so a warning is all it takes.
  pool.on('error', (err) => logger.warn({ err }, 'session pool: an idle database connection was closed'));
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.set('etag', 'weak');

  const assets = buildAssets();
  setupViews(app, assets);

  if (config.WEB_CONCURRENCY > 1 && cluster.worker) {
    // Which worker answered: lets an operator (and the multi-process test) see the balancing.
    const id = String(cluster.worker.id);
    app.use((_req, res, next) => {
      res.set('X-Dars-Worker', id);
      next();
    });
  }
  app.use(requestLogging(logger, (req) => (req.url ?? '').startsWith('/assets/') || req.url === '/healthz'));
  // Before compression, so what is counted is what went out on the wire.
  if (deps.meter) app.use(deps.meter.middleware);
  app.use(compression({ threshold: 512 }));
  app.use(securityHeaders({ secret: config.SESSION_SECRET, tls: config.TRUST_TLS, frameSources: [config.CONTENT_ORIGIN] }));
  app.use(assets.router);

  app.get('/healthz', async (_req, res) => {
    const ok = await Promise.race([
      orm.em.fork().getConnection().execute('SELECT 1').then(() => true, () => false),
      new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref()),
    ]);
    res.set('Cache-Control', 'no-store').status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'database unavailable' });
  });

  app.use((_req, _res, next) => RequestContext.create(orm.em, next));
  app.use(sessions(pool, { secret: config.SESSION_SECRET, tls: config.TRUST_TLS }));
  // The unread notices of the menu are read with the user row: one statement for both.
  app.use(loadCurrentUser(orm, [unreadNoticeCount]));
  app.use(i18nMiddleware(deps.i18n));
  app.use(express.urlencoded({ extended: false, limit: `${config.BODY_LIMIT_KB}kb`, parameterLimit: 200, verify: markInvalidUtf8 }));
  app.use(rejectUnstorableText);
  app.use(viewLocals);
  app.use(noStoreWhenSignedIn);
  const { protect, expose } = csrf(isCsrfExempt);
  app.use(expose);
  app.use(protect);
  app.use(requireFreshPassword);
  app.use(askKeys);

  const certificateIssuerOfSchool = certificateIssuer({
    dataDir: config.dataDir,
    signingKey: config.CERT_SIGNING_KEY,
    publicUrl: config.APP_ORIGIN,
    assignmentPercents: releasedAssignmentPercents,
  });
  app.use(homeRoutes({ orm, sections: [coursesHomeSection, learnerCohorts, teacherCohorts, coordinatorProgrammes, oncallHomeSection, dataAllowanceSection, assignmentsHomeSection, certificatesHomeSection(certificateIssuerOfSchool)] }));
  app.get('/profile', profileDataUsage(orm));
  app.use(offlineRoutes({ stylesheet: assets.url('dars.css') }));
  app.use(
    accountsRoutes({
      orm,
      sessionPool: pool,
      tls: config.TRUST_TLS,
      loginPolicy: { maxFailures: config.LOGIN_MAX_FAILURES, lockMinutes: config.LOGIN_LOCK_MINUTES },
      loginLimiter: rateLimiter(pool, 'login-ip', config.LOGIN_RATE_PER_IP, 15 * 60),
      directory: { inProgrammesOf: usersInProgrammesOf },
    }),
  );
  app.use(programmesRoutes({ orm, csvLimitBytes: config.CSV_LIMIT_KB * 1024 }));
  app.use(coursesRoutes({ orm, dataDir: config.dataDir }));
  app.use(
    certificatesRoutes({
      orm,
      issuer: certificateIssuerOfSchool,
      i18n: deps.i18n,
      verifyLimiter: rateLimiter(pool, 'verify-ip', config.VERIFY_RATE_PER_IP, 15 * 60),
    }),
  );
  app.use(allowancesRoutes({ orm, facts: eligibilityFacts, csvLimitBytes: config.CSV_LIMIT_KB * 1024 }));
  app.use(reportsRoutes({ orm, minCell: config.REPORT_MIN_CELL, targets: { languageHours: config.REPORT_LANGUAGE_HOURS, softSkillsHours: config.REPORT_SOFT_SKILLS_HOURS } }));
  app.use(oncallRoutes({ orm, storage: fileStorage(config.dataDir), contexts: contextLookups }));
  app.use(assignmentsRoutes({ orm, storage: fileStorage(config.dataDir), askBox: askFormFor }));
  app.use(
    scormRoutes({
      orm,
      signer: tokenSigner(config.SESSION_SECRET),
      appOrigin: config.APP_ORIGIN,
      contentOrigin: config.CONTENT_ORIGIN,
      dataDir: config.dataDir,
      maxZipBytes: config.SCORM_MAX_MB * 1024 * 1024,
    }),
  );

  app.use((_req, res) => {
    res.status(404).render('errors/error', { title: 'errors:status.404', messageText: (res.locals.t as (k: string) => string)('errors:notFound.body'), status: 404 });
  });
  app.use(errorHandler(logger, deps.i18n));
  return app;
}

/** What allowance rules count, from the slices that know it. */
const eligibilityFacts: EligibilityFacts = { lessonsCompletedBy, studySecondsBy, submissionsBy };

/**
 * Requests authorised by something other than the session, which therefore carry no CSRF token.
 * Kept as one precise list so the CSRF test can check every other route.
 */
export function isCsrfExempt(req: { method: string; path: string }): boolean {
  return CSRF_EXEMPT.some((rule) => rule.method === req.method && rule.path.test(req.path));
}
const CSRF_EXEMPT: { method: string; path: RegExp }[] = [
  // SCORM commits come from the player on the content origin, authorised by an attempt's launch token.
  { method: 'POST', path: new RegExp(`^${COMMIT_PATH}$`) },
  { method: 'OPTIONS', path: new RegExp(`^${COMMIT_PATH}$`) },
];

/**
 * The SCORM content origin (package files and the player), served by this process on
 * CONTENT_PORT under a host name of its own. See src/scorm/content-origin.ts.
 */
export function createContentApp(deps: AppDeps): Express {
  const { config } = deps;
  return createContentOrigin({
    orm: deps.orm,
    logger: deps.logger,
    i18n: deps.i18n,
    signer: tokenSigner(config.SESSION_SECRET),
    appOrigin: config.APP_ORIGIN,
    contentOrigin: config.CONTENT_ORIGIN,
    dataDir: config.dataDir,
    meter: deps.meter,
  });
}

const viewLocals: express.RequestHandler = (req, res, next) => {
  const actor = res.locals.currentUser;
  res.locals.languages = languageChoices();
  res.locals.currentPath = req.originalUrl.length < 400 ? req.originalUrl : '/';
  res.locals.timeZone = actor?.timeZone ?? 'UTC';
  res.locals.dataSaver = actor?.dataSaver ?? false;
  // The one-time notice ("Handed in: version 1") goes to the next page actually shown, not to
  // whatever request comes next: a favicon or a prefetch that ends in a 404 must not swallow it.
  const render = res.render.bind(res) as (view: string, options?: object) => void;
  res.render = ((view: string, options?: object) => {
    if (req.session?.notice && res.statusCode < 400) {
      const { key, vars } = req.session.notice;
      res.locals.notice = (res.locals.t as (k: string, v?: object) => string)(key, vars);
      delete req.session.notice;
    }
    render(view, options);
  }) as typeof res.render;
  next();
};

/** The one place errors become responses. Users see a translated page; stacks stay in the log. */
function errorHandler(logger: Logger, i18n: i18n): ErrorRequestHandler {
  const chooseLanguage = i18nMiddleware(i18n);
  return (err, req, res, _next) => {
    if (res.headersSent) {
      // express-session reports a failed session save (the database is down) while the page it
      // held back is still being written: let that page finish. An answer that stops half-way is
      // cut off after a moment, so that it is not taken for a complete one.
      logger.warn({ err, url: req.originalUrl }, 'failed after the answer was sent');
      if (!res.writableFinished) {
        const cut = setTimeout(() => req.socket.destroy(), 2000).unref();
        res.once('close', () => clearTimeout(cut));
      }
      return;
    }
    if (err instanceof SignInRequired && req.method === 'GET') {
      if (req.session) req.session.returnTo = req.originalUrl;
      return res.redirect(303, '/login');
    }
    let status = 500;
    let title = 'errors:server.title';
    let message = 'errors:server.body';
    let vars: Record<string, unknown> = {};
    if (err instanceof AppError) {
      status = err instanceof InvalidInput ? 400 : err.status;
      title = `errors:status.${status}`;
      message = err instanceof InvalidInput ? 'errors:badRequest.body' : err.messageKey;
      vars = err.vars;
      // The school's own trouble (storage unavailable): the person gets the message, the operator the cause.
      if (status >= 500) logger.error({ err: err.cause ?? err, url: req.originalUrl }, err.code);
    } else if (isCsrfError(err)) {
      status = 403;
      title = 'errors:status.403';
      message = 'errors:csrf.body';
    } else if (err?.code === '22P05' || err?.code === '22021') {
      // Text PostgreSQL cannot store that slipped past the forms (e.g. inside a multipart body).
      status = 400;
      title = 'errors:status.400';
      message = 'errors:badText.body';
    } else if (err?.type === 'entity.too.large') {
      status = 413;
      title = 'errors:status.413';
      message = 'errors:tooLarge.body';
    } else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
      status = err.status;
      title = `errors:status.${status}`;
      message = 'errors:badRequest.body';
    } else {
      logger.error({ err, url: req.originalUrl }, 'unhandled error');
    }
    // An error is about this moment (the database was down, the form was stale): no browser or
    // proxy may keep it, whoever asked, even when the session could not be read to say so.
    res.status(status).set('Cache-Control', 'no-store');
    const render = () => res.render('errors/error', { title, messageText: (res.locals.t as (k: string, v?: object) => string)(message, vars), status });
    // A request that failed before its language was chosen (the session store could not reach the
    // database) still gets its page, in the language of its cookie or browser.
    if (!res.locals.t) return chooseLanguage(req, res, render);
    render();
  };
}
