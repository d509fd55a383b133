/**
 * Boots the real app in-process on its own real PostgreSQL database (a clone of the migrated
 * template), with the configuration a test asks for.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { createMeter, type Meter } from '../../src/allowances/index.ts';
import { createApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { entities } from '../../src/entities.ts';
import { ensureDatabase, openOrm } from '../../src/platform/database.ts';
import { createI18n } from '../../src/platform/i18n.ts';
import { createLogger } from '../../src/platform/logger.ts';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  orm: Awaited<ReturnType<typeof openOrm>>;
  config: Config;
  databaseUrl: string;
  pool: pg.Pool;
  /** Counts bytes sent to learners; call flush() to write what it holds. */
  meter: Meter;
  /** A fresh entity manager for arranging and checking records. */
  em: () => Awaited<ReturnType<typeof openOrm>>['em'];
  /** Listens on a free port (for browsers and other real clients). */
  listen: () => Promise<{ url: string; server: Server }>;
  close: () => Promise<void>;
}

export async function cloneDatabase(): Promise<string> {
  const adminUrl = inject('pgAdminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  await ensureDatabase(adminUrl, name, 'dars_template');
  return adminUrl.replace(/\/[^/]*$/, `/${name}`);
}

export async function bootApp(env: Record<string, string> = {}): Promise<TestApp> {
  const databaseUrl = await cloneDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'dars-test-data-')),
    SESSION_SECRET: 'test-secret-test-secret-test-secret-0123',
    LOG_LEVEL: 'silent',
    DEMO: 'false',
    ...env,
  });
  const orm = await openOrm(databaseUrl, entities, { poolMax: 5 });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  const i18n = await createI18n('en');
  // A long interval: tests write the counters when they want them, with meter.flush().
  const meter = createMeter(orm, { flushIntervalMs: 60_000 });
  const app = createApp({ config, orm, pool, logger: createLogger('silent'), i18n, meter });
  const servers: Server[] = [];
  return {
    app,
    orm,
    config,
    databaseUrl,
    pool,
    meter,
    em: () => orm.em.fork(),
    listen: () =>
      new Promise((resolve) => {
        const server = app.listen(0, '127.0.0.1', () => {
          servers.push(server);
          resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server });
        });
      }),
    close: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
      await meter.stop();
      await pool.end();
      await orm.close();
    },
  };
}
