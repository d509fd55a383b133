/**
 * `npm run courses:import [-- <course folder>…] [--lang el]`
 * Checks and imports every course under courses/ (or the folders given). Each course is imported
 * on its own: an invalid one is reported with every problem's file and line and changes nothing.
 * Re-importing keeps learners' progress. Exits 1 when any course was invalid.
 */
import { SingleBar, Presets } from 'cli-progress';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { COURSES_ROOT, formatImportReport, importCourses } from '../courses/index.ts';
import { entities } from '../entities.ts';
import { locateDatabase, migrate, openOrm } from '../platform/database.ts';
import { createI18n } from '../platform/i18n.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { lang: { type: 'string', default: 'en' } } });
const config = loadConfig();
const db = await locateDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
const orm = await openOrm(db.url, entities);
const i18n = await createI18n(values.lang ?? 'en');
const t = i18n.getFixedT(values.lang ?? 'en');
const bar = new SingleBar({ format: ' {bar} {value}/{total} {folder}', hideCursor: true, stream: process.stderr, noTTYOutput: false }, Presets.shades_classic);
let exitCode = 0;
try {
  await migrate(orm);
  const only = positionals.map((p) => path.resolve(p));
  const root = only.length ? path.dirname(only[0]!) : COURSES_ROOT;
  bar.start(only.length || 1, 0, { folder: '' });
  const results = await importCourses(orm.em.fork(), root, {
    filesDir: path.join(config.dataDir, 'files'),
    only,
    onProgress: (done, total, folder) => {
      bar.setTotal(total);
      bar.update(done, { folder });
    },
  });
  bar.stop();
  const report = formatImportReport(results, (key, vars) => t(key, { ...vars }));
  if (results.some((r) => r.status === 'invalid')) {
    console.error(report);
    exitCode = 1;
  } else {
    console.log(report);
  }
} catch (err) {
  bar.stop();
  console.error(err instanceof Error ? err.message : err);
  exitCode = 1;
} finally {
  await orm.close();
  await db.stop();
}
process.exit(exitCode);
