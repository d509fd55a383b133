/**
 * start(): config → database (embedded when DATABASE_URL is unset) → migrations → demo data →
 * app → listen. SIGTERM/SIGINT close everything in order. Nothing starts on import.
 */
import type { Server } from 'node:http';
import pg from 'pg';
import { createApp } from './app.ts';
import { loadConfig, type Config } from './config.ts';
import { DEMO_ACCOUNTS, DEMO_PASSWORD, isEmpty, seedDemo } from './demo/seed.ts';
import { entities } from './entities.ts';
import { locateDatabase, migrate, openOrm } from './platform/database.ts';
import { createI18n } from './platform/i18n.ts';
import { createLogger } from './platform/logger.ts';

export interface Running {
  server: Server;
  url: string;
  config: Config;
  stop: () => Promise<void>;
}

export async function start(env: NodeJS.ProcessEnv = process.env): Promise<Running> {
  const config = loadConfig(env);
  const logger = createLogger(config.LOG_LEVEL);
  const db = await locateDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
  const orm = await openOrm(db.url, entities);
  await migrate(orm);
  const pool = new pg.Pool({ connectionString: db.url, max: 5 });

  const em = orm.em.fork();
  let seeded = false;
  if (config.DEMO && (await isEmpty(em))) {
    await seedDemo(em);
    seeded = true;
  }

  const i18n = await createI18n(config.DEFAULT_LANGUAGE);
  const app = createApp({ config, orm, pool, logger, i18n });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(config.PORT, config.HOST, () => resolve(s));
  });
  const { port } = server.address() as { port: number };
  const url = `http://localhost:${port}`;
  logger.info({ url, database: config.DATABASE_URL ? 'external' : 'embedded' }, `Dars is running at ${url}`);
  if (config.DEMO) {
    logger.info(
      { accounts: DEMO_ACCOUNTS.map((a) => `${a.username} (${a.role})`), password: DEMO_PASSWORD, seeded },
      `Demo accounts: ${DEMO_ACCOUNTS.map((a) => a.username).join(', ')} — password ${DEMO_PASSWORD}`,
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
      await orm.close();
      await db.stop();
    })());
  return { server, url, config, stop };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const running = await start().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      running.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
