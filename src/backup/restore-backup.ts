/**
 * Restoring a backup into an empty database: everything that can be checked is checked before
 * anything is written (the manifest, the migrations, that the database is empty, every table
 * dump's fingerprint, no clashing file), then the stored files are copied back (each checked
 * against its fingerprint), the schema is built by the same migrations the backup recorded, and
 * all rows are loaded in ONE transaction that commits only when every table holds exactly the
 * rows the manifest counted. A failure before that commit leaves the database without rows, so
 * the restore can simply be run again.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { freeSequences, loadOrder, ownedSequences, quote, schoolTables, type TableInfo } from './catalog.ts';
import { BackupRefused, FILES_DIR, TABLES_DIR, readManifest, type Manifest } from './manifest.ts';
import { copyFile, fingerprintOf } from './stored-files.ts';

/** The part of the migrator a restore needs. */
export interface Migrations {
  /** Every migration this code has, applied or not. */
  known(): Promise<string[]>;
  /** Migrations applied to the target database, in order. */
  applied(): Promise<string[]>;
  /** Applies exactly these migrations. */
  run(names: string[]): Promise<void>;
}

export function ormMigrations(orm: MikroORM): Migrations {
  const applied = async () => (await orm.migrator.getExecuted()).map((m) => m.name);
  return {
    applied,
    known: async () => [...(await applied()), ...(await orm.migrator.getPending()).map((m) => m.name)],
    run: async (names) => {
      if (names.length) await orm.migrator.up({ migrations: names });
    },
  };
}

export interface RestoreOptions {
  databaseUrl: string;
  dataDir: string;
  folder: string;
  migrations: Migrations;
  onProgress?: (line: string) => void;
}

export interface RestoreSummary {
  manifest: Manifest;
  rows: number;
  /** Stored files copied (files already present with the same content are not copied again). */
  filesCopied: number;
  /** Migrations this code has beyond the backup's: the next start (or `npm run migrate`) applies them. */
  newerMigrations: string[];
  seconds: number;
}

export async function restoreBackup(opts: RestoreOptions): Promise<RestoreSummary> {
  const started = performance.now();
  const say = opts.onProgress ?? (() => {});
  const folder = path.resolve(opts.folder);
  const manifest = await readManifest(folder);

  const known = await opts.migrations.known();
  const unknown = manifest.migrations.filter((m) => !known.includes(m));
  if (unknown.length) {
    throw new BackupRefused(
      `The backup's database has migrations this version of Dars does not know (${unknown.join(', ')}). Restore it with the version of Dars that made it (${manifest.darsVersion}) or a newer one.`,
    );
  }
  const applied = await opts.migrations.applied();
  const extra = applied.filter((m) => !manifest.migrations.includes(m));
  if (extra.length) {
    throw new BackupRefused(`The database already has migrations the backup does not (${extra.join(', ')}). Restore into a new, empty database.`);
  }

  const client = new pg.Client({ connectionString: opts.databaseUrl });
  await client.connect();
  try {
    await assertEmpty(client, await schoolTables(client));
    say('Checking the table dumps against the manifest…');
    for (const t of manifest.tables) {
      const got = await fingerprintOf(path.join(folder, TABLES_DIR, t.file));
      if (!got) throw new BackupRefused(`The backup is incomplete: ${TABLES_DIR}/${t.file} is missing.`);
      if (got.sha256 !== t.sha256 || got.size !== t.bytes) throw new BackupRefused(`The backup is damaged: ${TABLES_DIR}/${t.file} does not match its fingerprint in the manifest.`);
    }
    const toCopy = await filesToCopy(manifest, opts.dataDir);

    say(`Copying ${toCopy.length} stored files (${manifest.files.length - toCopy.length} already in place)…`);
    for (const f of toCopy) {
      await copyFile(path.join(folder, FILES_DIR, f.path), path.join(opts.dataDir, f.path), f).catch((err: Error) => {
        throw new BackupRefused(err.message);
      });
    }

    const pending = manifest.migrations.filter((m) => !applied.includes(m));
    say(`Applying ${pending.length} migrations…`);
    await opts.migrations.run(pending);

    const rows = await loadRows(client, folder, manifest, say);
    const newerMigrations = known.filter((m) => !manifest.migrations.includes(m));
    return { manifest, rows, filesCopied: toCopy.length, newerMigrations, seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.end();
  }
}

/** Empty: no table holds a row (a database that is new, or only migrated, e.g. by one start with DEMO=false). */
async function assertEmpty(client: pg.Client, tables: TableInfo[]) {
  const filled: string[] = [];
  for (const t of tables) {
    const { rows } = await client.query(`SELECT EXISTS (SELECT 1 FROM ${quote(t.name)}) AS filled`);
    if (rows[0].filled) filled.push(t.name);
  }
  if (filled.length) {
    throw new BackupRefused(
      `The database is not empty (${filled.slice(0, 5).join(', ')}${filled.length > 5 ? ', …' : ''} hold rows), so nothing was restored. ` +
        'A backup is restored only into a new, empty database: create one and point DATABASE_URL at it, or use a new DATA_DIR.',
    );
  }
}

/** Files not yet in place. A different file already at a backed-up path is a clash: refuse rather than overwrite. */
async function filesToCopy(manifest: Manifest, dataDir: string) {
  const todo: Manifest['files'] = [];
  for (const f of manifest.files) {
    const present = await fingerprintOf(path.join(dataDir, f.path));
    if (!present) todo.push(f);
    else if (present.sha256 !== f.sha256) throw new BackupRefused(`${path.join(dataDir, f.path)} already exists with other content; nothing was restored. Restore into a new DATA_DIR.`);
  }
  return todo;
}

async function loadRows(client: pg.Client, folder: string, manifest: Manifest, say: (line: string) => void): Promise<number> {
  try {
    await client.query('BEGIN');
    const tables = await schoolTables(client);
    // Nobody else may write while the rows arrive (a server started too early would seed demo data).
    if (tables.length) await client.query(`LOCK TABLE ${tables.map((t) => quote(t.name)).join(', ')} IN ACCESS EXCLUSIVE MODE`);
    await assertEmpty(client, tables);

    const byName = new Map(tables.map((t) => [t.name, t]));
    for (const t of manifest.tables) {
      const target = byName.get(t.name);
      const missing = target ? t.columns.filter((c) => !target.columns.includes(c)) : [];
      if (!target || missing.length) {
        throw new BackupRefused(`After the migrations, ${target ? `columns ${missing.join(', ')} of ${t.name} are` : `table ${t.name} is`} missing: the migrations do not build the schema the backup was taken from.`);
      }
    }
    const entries = new Map(manifest.tables.map((t) => [t.name, t]));
    let total = 0;
    for (const table of loadOrder(tables.filter((t) => entries.has(t.name)))) {
      const entry = entries.get(table.name)!;
      const copy = client.query(copyFrom(`COPY ${quote(table.name)} (${entry.columns.map(quote).join(', ')}) FROM STDIN`));
      await pipeline(createReadStream(path.join(folder, TABLES_DIR, entry.file)), createGunzip(), copy);
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quote(table.name)}`);
      if (Number(rows[0]!.n) !== entry.rows) throw new BackupRefused(`${table.name} holds ${rows[0]!.n} rows after loading, the manifest says ${entry.rows}: the backup is damaged.`);
      total += entry.rows;
      say(`  ${table.name}: ${entry.rows} rows`);
    }

    // New rows must not collide with restored ones: each column's sequence continues after its largest value.
    for (const s of await ownedSequences(client)) {
      await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(${quote(s.column)}), 0) + 1, false) FROM ${quote(s.table)}`, [quote(s.table), s.column]);
    }
    const free = new Set(await freeSequences(client));
    for (const s of manifest.sequences.filter((s) => free.has(s.name))) {
      await client.query(`SELECT setval($1::regclass, $2::bigint, $3)`, [quote(s.name), s.lastValue, s.isCalled]);
    }
    await client.query('COMMIT');
    return total;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
