import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { User } from '../../src/accounts/index.ts';
import { readManifest } from '../../src/backup/index.ts';
import { entities } from '../../src/entities.ts';
import { ensureDatabase, openOrm } from '../../src/platform/database.ts';
import { signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { appOn } from '../faults/support.ts';
import { makeUser } from '../support/factories.ts';
import { buildSchool, storedFileHashes, tableFigures } from './school.ts';

let t: TestApp;
let school: Awaited<ReturnType<typeof buildSchool>>;
let backupDir: string;
let backupOutput: string;

const tmp = (prefix: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
};

/** Runs `npm run backup` / `npm run restore` as an operator would: its own process and environment. */
function run(tool: 'backup' | 'restore', folder: string, env: { DATABASE_URL: string; DATA_DIR: string }) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [`src/cli/${tool}.ts`, folder], { env: { ...process.env, ...env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

async function emptyDatabase() {
  const admin = inject('pgAdminUrl');
  const name = `restore_${randomBytes(5).toString('hex')}`;
  await ensureDatabase(admin, name);
  return admin.replace(/\/[^/]*$/, `/${name}`);
}

beforeAll(async () => {
  t = await bootApp();
  school = await buildSchool(t);
  backupDir = path.join(tmp('dars-backup-'), 'nightly');
  const result = await run('backup', backupDir, { DATABASE_URL: t.databaseUrl, DATA_DIR: t.config.dataDir });
  backupOutput = result.out;
  if (result.code !== 0) throw new Error(`backup failed: ${result.out}`);
}, 120_000);

afterAll(() => t.close());

describe('backup and restore', () => {
  it('when a school is backed up and restored into a new empty database, then every table and every stored file is the same', async () => {
    const restoredUrl = await emptyDatabase();
    const restoredData = tmp('dars-restored-');
    const restored = await run('restore', backupDir, { DATABASE_URL: restoredUrl, DATA_DIR: restoredData });
    expect(restored.code, restored.out).toBe(0);

    const before = await tableFigures(t.databaseUrl);
    const after = await tableFigures(restoredUrl);
    expect(after).toEqual(before);
    // The school really had content everywhere the round trip matters.
    for (const table of ['users', 'cohorts', 'enrolments', 'courses', 'lessons']) expect(before[table]!.rows, table).toBeGreaterThan(0);

    const files = await storedFileHashes(t.config.dataDir);
    expect(Object.keys(files).length).toBeGreaterThan(3);
    expect(await storedFileHashes(restoredData)).toEqual(files);

    // The manifest agrees with what was restored.
    const manifest = await readManifest(backupDir);
    for (const entry of manifest.tables) expect(entry.rows, entry.name).toBe(before[entry.name]!.rows);
    expect(manifest.files.map((f) => f.path).sort()).toEqual(Object.keys(files).sort());
    expect(manifest.tables.map((m) => m.name)).not.toContain('session');
    expect(backupOutput).toMatch(/Done in [\d.]+ s/);

    // The restored school works: its people sign in, and new rows get fresh ids.
    const orm = await openOrm(restoredUrl, entities, { poolMax: 2 });
    try {
      const em = orm.em.fork();
      const maxId = Math.max(...(await em.find(User, {})).map((u) => u.id));
      const newcomer = await makeUser(em, 'learner');
      expect(newcomer.id).toBeGreaterThan(maxId);
      // Exactly the backup's migrations ran (newer ones of this code wait for the next start).
      expect((await orm.migrator.getExecuted()).map((m) => m.name)).toEqual((await readManifest(backupDir)).migrations);
    } finally {
      await orm.close();
    }
    const app = await appOn(restoredUrl, restoredData);
    try {
      const learner = await signIn(app.app, school.learnerA1.username);
      expect((await learner.get('/profile')).text).toContain('Amina Y. (saved)');
    } finally {
      await app.close();
    }
  });

  it('when the database already holds a school, then the restore is refused and changes nothing', async () => {
    const before = await tableFigures(t.databaseUrl);
    const filesBefore = await storedFileHashes(t.config.dataDir);
    const refused = await run('restore', backupDir, { DATABASE_URL: t.databaseUrl, DATA_DIR: t.config.dataDir });
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('The database is not empty');
    expect(refused.out).toContain('nothing was restored');
    expect(await tableFigures(t.databaseUrl)).toEqual(before);
    expect(await storedFileHashes(t.config.dataDir)).toEqual(filesBefore);
  });

  it('when even one row was added to a new database, then the restore is refused and changes nothing', async () => {
    const url = await emptyDatabase();
    const orm = await openOrm(url, entities, { poolMax: 2 });
    await orm.migrator.up({ migrations: (await readManifest(backupDir)).migrations });
    await makeUser(orm.em.fork(), 'admin', { username: 'early-admin' });
    await orm.close();
    const dataDir = tmp('dars-restored-');
    const before = await tableFigures(url);
    const refused = await run('restore', backupDir, { DATABASE_URL: url, DATA_DIR: dataDir });
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('users');
    expect(await tableFigures(url)).toEqual(before);
    expect(readdirSync(dataDir)).not.toContain('files');
  });

  it('when a table dump was altered, then the restore is refused before anything is written', async () => {
    const damaged = path.join(tmp('dars-damaged-'), 'copy');
    const copy = await run('backup', damaged, { DATABASE_URL: t.databaseUrl, DATA_DIR: t.config.dataDir });
    expect(copy.code).toBe(0);
    const dump = path.join(damaged, 'tables', 'users.copy.gz');
    const bytes = readFileSync(dump);
    const at = bytes.length - 10;
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(dump, bytes);
    const url = await emptyDatabase();
    const dataDir = tmp('dars-restored-');
    const refused = await run('restore', damaged, { DATABASE_URL: url, DATA_DIR: dataDir });
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('tables/users.copy.gz does not match');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'users'`);
    await client.end();
    expect(rows[0].n).toBe(0);
    expect(readdirSync(dataDir)).not.toContain('files');
  });

  it('when the backup folder is not empty, then no backup is written into it', async () => {
    const res = await run('backup', backupDir, { DATABASE_URL: t.databaseUrl, DATA_DIR: t.config.dataDir });
    expect(res.code).toBe(1);
    expect(res.out).toContain('is not empty');
  });
});
