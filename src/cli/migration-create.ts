/** `npm run migration:create`: writes a migration for the difference between entities and the last snapshot. */
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
