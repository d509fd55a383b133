/**
 * The database a backup is read from or restored into: DATABASE_URL, else the embedded server of
 * DATA_DIR. A running embedded server (the school is up) is used as it is: starting another on
 * the same folder would first stop it under the running school.
 */
import path from 'node:path';
import { locateDatabase, type DatabaseLocation } from '../platform/database.ts';
import { runningEmbeddedPostgres } from '../platform/embedded-postgres.ts';

export async function schoolDatabase(opts: { databaseUrl?: string; dataDir: string }): Promise<DatabaseLocation> {
  if (opts.databaseUrl) return { url: opts.databaseUrl, stop: async () => {} };
  const running = runningEmbeddedPostgres(path.join(opts.dataDir, 'pg'));
  if (running) return { url: running.url('dars'), stop: running.stop };
  return locateDatabase(opts);
}

/** A folder named on the command line, relative to where the person typed it (npm runs scripts from the project root). */
export function folderArgument(arg: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), arg);
}
