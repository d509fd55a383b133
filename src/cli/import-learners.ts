/**
 * `npm run import:learners -- file.csv --cohort CODE_OR_ID [--as USERNAME]`
 * Imports learners into a cohort with the same checks as the upload form: every row is checked
 * first, and if any row is wrong nothing is written. Prints the one-time passwords to hand over.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { User, toActor } from '../accounts/index.ts';
import { loadConfig } from '../config.ts';
import { entities } from '../entities.ts';
import { locateDatabase, openOrm } from '../platform/database.ts';
import { createI18n } from '../platform/i18n.ts';
import { Cohort, importLearners } from '../programmes/index.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { cohort: { type: 'string' }, as: { type: 'string', default: 'admin' }, lang: { type: 'string', default: 'en' } },
});
const file = positionals[0];
if (!file || !values.cohort) {
  console.error('Usage: npm run import:learners -- learners.csv --cohort <joining code or id> [--as <staff username>]');
  process.exit(2);
}

const config = loadConfig();
const db = await locateDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
const orm = await openOrm(db.url, entities);
const i18n = await createI18n(values.lang ?? 'en');
const t = i18n.getFixedT(values.lang ?? 'en');
let exitCode = 0;
try {
  const em = orm.em.fork();
  const byId = /^\d+$/.test(values.cohort) ? { id: Number(values.cohort) } : { enrolmentCode: values.cohort.toUpperCase() };
  const cohort = await em.findOne(Cohort, byId);
  const staff = await em.findOne(User, { username: values.as, role: { $in: ['coordinator', 'admin'] } });
  if (!cohort) throw new Error(`No cohort with code or id "${values.cohort}".`);
  if (!staff) throw new Error(`No coordinator or admin named "${values.as}" (use --as).`);
  const report = await importLearners(em, toActor(staff), cohort, readFileSync(file, 'utf8'));
  if (!report.ok) {
    console.error(t('programmes:import.nothingImported', { count: report.problems.length }));
    for (const p of report.problems) console.error(`  ${t('programmes:import.row')} ${p.row}${p.field ? ` (${p.field})` : ''}: ${t(p.key, p.vars ?? {})}`);
    exitCode = 1;
  } else {
    console.log(t('programmes:import.done', { created: report.created.length, existing: report.enrolledExisting.length }));
    for (const c of report.created) console.log(`  ${c.username}\t${c.password ?? t('programmes:import.ownPassword')}\t${c.displayName}`);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  exitCode = 1;
} finally {
  await orm.close();
  await db.stop();
}
process.exit(exitCode);
