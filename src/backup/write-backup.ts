/**
 * Writing a backup, the way pg_dump does it but in Node (PostgreSQL's own client tools refuse a
 * newer server, and the embedded server is 18): one read-only transaction at REPEATABLE READ, so
 * every table is read from the same instant, and each table COPied out in primary-key order.
 *
 * Stored files are copied after the tables. Files are written before the rows that point at them
 * and never changed in place, so every file a dumped row names is already on disk when the copy
 * starts; only a file deleted while the backup runs can be missing (listed under `vanished`).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { projectRoot } from '../platform/database.ts';
import { MIGRATIONS_TABLE, freeSequences, quote, schoolTables, type TableInfo } from './catalog.ts';
import { BackupRefused, FILES_DIR, FORMAT, FORMAT_VERSION, TABLES_DIR, writeManifest, type FileEntry, type Manifest, type TableEntry } from './manifest.ts';
import { copyFile, fingerprint, listStoredFiles } from './stored-files.ts';

export interface BackupOptions {
  databaseUrl: string;
  dataDir: string;
  /** A new or empty folder; it receives manifest.json, tables/ and data/. */
  folder: string;
  onProgress?: (line: string) => void;
}

export interface BackupSummary {
  manifest: Manifest;
  /** Bytes written (table dumps and stored files). */
  bytes: number;
  seconds: number;
}

export async function writeBackup(opts: BackupOptions): Promise<BackupSummary> {
  const started = performance.now();
  const say = opts.onProgress ?? (() => {});
  const folder = path.resolve(opts.folder);
  await assertUsableFolder(folder);
  await mkdir(path.join(folder, TABLES_DIR), { recursive: true, mode: 0o700 });

  const client = new pg.Client({ connectionString: opts.databaseUrl });
  await client.connect();
  let database: Pick<Manifest, 'migrations' | 'tables' | 'sequences' | 'postgresVersion'>;
  try {
    database = await dumpDatabase(client, folder, say);
  } finally {
    await client.end();
  }

  const files: FileEntry[] = [];
  const vanished: string[] = [];
  const listed = await listStoredFiles(opts.dataDir, [folder]);
  say(`Copying ${listed.length} stored files…`);
  for (const rel of listed) {
    try {
      files.push({ path: rel, ...(await copyFile(path.join(opts.dataDir, rel), path.join(folder, FILES_DIR, rel))) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      vanished.push(rel);
    }
  }

  const manifest: Manifest = {
    format: FORMAT,
    version: FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    darsVersion: await darsVersion(),
    ...database,
    files,
    vanished,
  };
  await writeManifest(folder, manifest);
  const bytes = manifest.tables.reduce((n, t) => n + t.bytes, 0) + files.reduce((n, f) => n + f.size, 0);
  return { manifest, bytes, seconds: (performance.now() - started) / 1000 };
}

async function dumpDatabase(client: pg.Client, folder: string, say: (line: string) => void) {
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // Wait a while behind a running migration, never forever.
    await client.query(`SET LOCAL lock_timeout = '60s'`);
    // The first query fixes the snapshot every later one reads.
    const hasMigrations = await client.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [`public.${MIGRATIONS_TABLE}`]);
    if (!hasMigrations.rows[0].present) throw new BackupRefused('The database has never been migrated: there is no school in it to back up.');
    const tables = await schoolTables(client);
    // As pg_dump does: no migration may alter or drop a table while it is being read.
    if (tables.length) await client.query(`LOCK TABLE ${tables.map((t) => quote(t.name)).join(', ')} IN ACCESS SHARE MODE`);
    const migrations = (await client.query<{ name: string }>(`SELECT name FROM ${quote(MIGRATIONS_TABLE)} ORDER BY id`)).rows.map((r) => r.name);
    const postgresVersion = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
    const entries: TableEntry[] = [];
    for (const [i, table] of tables.entries()) {
      const entry = await dumpTable(client, table, folder, i);
      say(`  ${table.name}: ${entry.rows} rows`);
      entries.push(entry);
    }
    const sequences: Manifest['sequences'] = [];
    for (const name of await freeSequences(client)) {
      const { rows } = await client.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${quote(name)}`);
      sequences.push({ name, lastValue: rows[0]!.last_value, isCalled: rows[0]!.is_called });
    }
    await client.query('COMMIT');
    return { migrations, tables: entries, sequences, postgresVersion };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

async function dumpTable(client: pg.Client, table: TableInfo, folder: string, index: number): Promise<TableEntry> {
  const file = /^[A-Za-z0-9_]+$/.test(table.name) ? `${table.name}.copy.gz` : `table-${index}.copy.gz`;
  const order = table.primaryKey.length ? ` ORDER BY ${table.primaryKey.map(quote).join(', ')}` : '';
  const copy = client.query(copyTo(`COPY (SELECT ${table.columns.map(quote).join(', ')} FROM ${quote(table.name)}${order}) TO STDOUT`));
  const { tap, result } = fingerprint();
  await pipeline(copy, createGzip(), tap, createWriteStream(path.join(folder, TABLES_DIR, file), { flags: 'wx', mode: 0o600, flush: true }));
  const { size, sha256 } = result();
  return { name: table.name, file, columns: table.columns, rows: copy.rowCount, bytes: size, sha256 };
}

/** Each backup gets a folder of its own: mixing two backups' files would make neither trustworthy. */
async function assertUsableFolder(folder: string) {
  const entries = await readdir(folder).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  if (entries.length) throw new BackupRefused(`${folder} is not empty. Give each backup a new folder (for example one named after the date).`);
}

async function darsVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
