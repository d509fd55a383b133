/**
 * `npm run restore -- <folder>`: restores a backup into an EMPTY database (DATABASE_URL, or the
 * embedded one of DATA_DIR) and puts the stored files back under DATA_DIR. Stop the school first.
 */
import { BackupRefused, folderArgument, ormMigrations, restoreBackup, schoolDatabase } from '../backup/index.ts';
import { loadConfig } from '../config.ts';
import { entities } from '../entities.ts';
import { openOrm } from '../platform/database.ts';

const arg = process.argv[2];
if (!arg) {
  console.error('Usage: npm run restore -- <backup folder>');
  process.exit(2);
}
const folder = folderArgument(arg);
const config = loadConfig();
const db = await schoolDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
const orm = await openOrm(db.url, entities, { poolMax: 2 });
let exitCode = 0;
try {
  console.log(`Restoring ${folder}`);
  const summary = await restoreBackup({ databaseUrl: db.url, dataDir: config.dataDir, folder, migrations: ormMigrations(orm), onProgress: (line) => console.log(line) });
  const { manifest } = summary;
  console.log(
    `Done in ${summary.seconds.toFixed(1)} s: ${manifest.tables.length} tables (${summary.rows} rows), ${summary.filesCopied} stored files copied, from the backup of ${manifest.createdAt}.`,
  );
  console.log('Everyone signs in again: sessions are not part of a backup.');
  if (summary.newerMigrations.length) console.log(`${summary.newerMigrations.length} newer migrations will be applied when Dars starts (or by npm run migrate).`);
} catch (err) {
  console.error(err instanceof BackupRefused ? err.message : err);
  exitCode = 1;
} finally {
  await orm.close();
  await db.stop();
}
process.exit(exitCode);
