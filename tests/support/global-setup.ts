/**
 * One real PostgreSQL for the whole run: embedded (fsync off, it is thrown away) unless
 * TEST_DATABASE_URL names a server where databases may be created. The schema is migrated once
 * into a template database; each test file clones it (tests/support/app.ts).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { entities } from '../../src/entities.ts';
import { ensureDatabase, migrate, openOrm } from '../../src/platform/database.ts';
import { startEmbeddedPostgres } from '../../src/platform/embedded-postgres.ts';

export const TEMPLATE = 'dars_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  let adminUrl = process.env.TEST_DATABASE_URL;
  let stop = async () => {};
  let dir: string | undefined;
  if (!adminUrl) {
    // Under /tmp (world-traversable), never under a private home: the server runs as `postgres`.
    dir = mkdtempSync(path.join(tmpdir(), 'dars-test-pg-'));
    chmodSync(dir, 0o755);
    const server = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), fast: true });
    adminUrl = server.url('postgres');
    stop = server.stop;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
  await admin.end();
  await ensureDatabase(adminUrl, TEMPLATE);
  const orm = await openOrm(adminUrl.replace(/\/[^/]*$/, `/${TEMPLATE}`), entities);
  await migrate(orm);
  await orm.close();
  project.provide('pgAdminUrl', adminUrl);
  return async () => {
    await stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
}
