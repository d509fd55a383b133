/**
 * `npm run migration:create`: migrates the database (DATA_DIR's embedded one, or DATABASE_URL) to the
 * latest state, then writes a migration for what the entities add to it. Review it before committing.
 */
import { loadConfig } from '../config.ts';
import { entities } from '../entities.ts';
import { locateDatabase, openOrm } from '../platform/database.ts';

const config = loadConfig();
const db = await locateDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
const orm = await openOrm(db.url, entities);
try {
  await orm.migrator.up();
  const result = await orm.migrator.create(undefined, false, process.argv.includes('--initial'));
  console.log(result.fileName ? `Created ${result.fileName}` : 'No changes to the schema.');
} finally {
  await orm.close();
  await db.stop();
}
