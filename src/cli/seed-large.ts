/**
 * `npm run seed:large [-- --learners 100000] [--force]`
 * Fills DATABASE_URL (or the embedded database of DATA_DIR) with a programme of realistic size —
 * by default 100,000 learners — for measuring reports and pages (see src/demo/large-seed.ts).
 * Refuses a database that already holds learners other than the demo's, unless --force: the new
 * programme is then added beside them under its own name.
 */
import { Presets, SingleBar } from 'cli-progress';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { hashPassword } from '../accounts/index.ts';
import { schoolDatabase } from '../backup/index.ts';
import { loadConfig } from '../config.ts';
import { importShippedCourses } from '../courses/index.ts';
import { DEMO_ACCOUNTS, DEMO_COURSES, DEMO_PASSWORD, isEmpty, seedDemo } from '../demo/seed.ts';
import { otherLearners, seedLarge } from '../demo/large-seed.ts';
import { entities } from '../entities.ts';
import { migrate, openOrm } from '../platform/database.ts';
import { createLogger } from '../platform/logger.ts';

const { values } = parseArgs({ options: { learners: { type: 'string', default: '100000' }, force: { type: 'boolean', default: false } } });
const learners = Number(values.learners);
if (!Number.isInteger(learners) || learners < 100 || learners > 2_000_000) {
  console.error('--learners must be a whole number from 100 to 2000000.');
  process.exit(2);
}

const config = loadConfig();
const logger = createLogger('warn');
const db = await schoolDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
let exitCode = 0;
try {
  // The same preparation as a first start: schema, the shipped courses, the demo school.
  const orm = await openOrm(db.url, entities, { poolMax: 2 });
  try {
    await migrate(orm);
    const em = orm.em.fork();
    const shipped = (await em.getConnection().execute(`SELECT count(*)::int AS n FROM courses WHERE slug IN (${DEMO_COURSES.map(() => '?').join(', ')})`, [...DEMO_COURSES])) as { n: number }[];
    if (shipped[0]!.n < DEMO_COURSES.length) await importShippedCourses(em, path.join(config.dataDir, 'files'), logger);
    if (config.DEMO && (await isEmpty(em))) await seedDemo(em);
  } finally {
    await orm.close();
  }

  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const others = await otherLearners(client, DEMO_ACCOUNTS.map((a) => a.username));
    if (others > 0 && !values.force) {
      console.error(`This database already has ${others} learners besides the demo accounts. Seed an empty database, or add --force to add a second programme beside them.`);
      exitCode = 1;
    } else {
      console.log(`Seeding ${learners.toLocaleString('en')} learners into ${config.DATABASE_URL ? 'DATABASE_URL' : path.join(config.dataDir, 'pg')}…`);
      const bar = new SingleBar({ format: ' {bar} {percentage}% | {value}/{total} rows | {step} | {duration_formatted}', hideCursor: true, stream: process.stderr }, Presets.shades_classic);
      bar.start(1, 0, { step: 'starting' });
      const backend = await backendCpu(client);
      const summary = await seedLarge(client, {
        learners,
        // Every seeded account signs in with the demo password; hashing it once keeps the seed fast.
        passwordHash: await hashPassword(DEMO_PASSWORD),
        onProgress: (done, total, step) => {
          bar.setTotal(total);
          bar.update(done, { step });
        },
      });
      bar.stop();
      const cpu = await backend.used();
      // On a machine shared with other work the wall time says little; the database's own CPU time is what the seed cost.
      console.log(`Done in ${summary.seconds.toFixed(0)} s${cpu === null ? '' : ` (PostgreSQL CPU time ${cpu.toFixed(0)} s)`}: programme "${summary.programme}".`);
      for (const [table, rows] of Object.entries(summary.rows)) console.log(`  ${table.padEnd(20)} ${rows.toLocaleString('en').padStart(12)}`);
      console.log(
        `Accounts (password ${DEMO_PASSWORD}): ${summary.usernamePrefix}-learner-1 … ${summary.usernamePrefix}-learner-${learners}, ` +
          `${summary.usernamePrefix}-teacher-1 … 25, ${summary.usernamePrefix}-coordinator-1 and -2.`,
      );
    }
  } finally {
    await client.end();
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  exitCode = 1;
} finally {
  await db.stop();
}
process.exit(exitCode);

/** CPU seconds the seed's PostgreSQL backend has used, when it runs on this machine (/proc); null otherwise. */
async function backendCpu(client: pg.Client) {
  const pid = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
  const read = () => {
    try {
      // Fields 14 and 15 of /proc/<pid>/stat: user and system time in clock ticks (100 a second on Linux).
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return null;
    }
  };
  const before = config.DATABASE_URL ? null : read();
  return { used: async () => (before === null ? null : (read() ?? before) - before) };
}
