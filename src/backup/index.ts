/**
 * backup — a copy of the school that can be put back: `npm run backup -- <folder>` and
 * `npm run restore -- <folder>`.
 *
 * Words: a *backup* is a folder holding a *manifest* (manifest.json: format version, time, Dars
 * version, the applied *migrations*, per table its row count and fingerprint, per stored file its
 * path, size and fingerprint), one *table dump* per table (tables/<table>.copy.gz: PostgreSQL COPY
 * text, gzip) and the *stored files* (data/<path below DATA_DIR>). A *fingerprint* is a SHA-256.
 * The *snapshot* is the one read-only REPEATABLE READ transaction every table is read in. A
 * *restore* goes only into an *empty* database: one whose tables (if any) hold no rows.
 * *Disposable* tables (sessions, login rate limits) are not backed up: after a restore everyone
 * signs in again.
 *
 * Knows no slice: tables, keys and sequences are read from PostgreSQL's catalog.
 */
export { writeBackup, type BackupOptions, type BackupSummary } from './write-backup.ts';
export { restoreBackup, ormMigrations, type Migrations, type RestoreOptions, type RestoreSummary } from './restore-backup.ts';
export { BackupRefused, readManifest, type Manifest } from './manifest.ts';
export { schoolDatabase, folderArgument } from './school-database.ts';
export { listStoredFiles } from './stored-files.ts';
export { DISPOSABLE_TABLES, loadOrder, schoolTables, type TableInfo } from './catalog.ts';
