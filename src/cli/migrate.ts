/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
import { loadConfig } from '../config.ts';
import { entities } from '../entities.ts';
import { locateDatabase, openOrm } from '../platform/database.ts';

const config = loadConfig();
const db = await locateDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
const orm = await openOrm(db.url, entities);
try {
  const done = await orm.migrator.up();
  console.log(done.length ? `Applied ${done.length} migration(s): ${done.map((m) => m.name).join(', ')}` : 'The database is up to date.');
} finally {
  await orm.close();
  await db.stop();
}
