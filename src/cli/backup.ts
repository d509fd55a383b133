/**
 * `npm run backup -- <folder>`: writes a consistent backup of the database and the stored files
 * to a new folder. Safe while the school is running (it reads one snapshot and blocks no writes).
 */
import { BackupRefused, folderArgument, schoolDatabase, writeBackup } from '../backup/index.ts';
import { loadConfig } from '../config.ts';

const arg = process.argv[2];
if (!arg) {
  console.error('Usage: npm run backup -- <new folder>');
  process.exit(2);
}
const folder = folderArgument(arg);
const config = loadConfig();
const db = await schoolDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
let exitCode = 0;
try {
  console.log(`Backing up to ${folder}`);
  const { manifest, bytes, seconds } = await writeBackup({ databaseUrl: db.url, dataDir: config.dataDir, folder, onProgress: (line) => console.log(line) });
  const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
  console.log(
    `Done in ${seconds.toFixed(1)} s: ${manifest.tables.length} tables (${rows} rows), ${manifest.files.length} stored files, ${(bytes / 1e6).toFixed(1)} MB.`,
  );
  if (manifest.vanished.length) console.log(`${manifest.vanished.length} files were deleted while the backup ran and are not in it.`);
} catch (err) {
  console.error(err instanceof BackupRefused ? err.message : err);
  exitCode = 1;
} finally {
  await db.stop();
}
process.exit(exitCode);
