/**
 * `npm run bench [-- --quick] [--learners 10000] [--data-dir data/bench] [--duration 10]`
 *
 * Runs the real school (node src/server.ts, production mode) on a data folder of its own, seeded
 * once with `seed:large` (10,000 learners by default) and reused afterwards, and loads it with
 * autocannon at 10 and 50 connections: the signed-in lesson page, a SCORM commit, a quiz submit,
 * the teacher's grading queue and the coordinator's enrolment report. Then the page weight of
 * the learner pages (bench/page-weight.ts) and the time of every report page (bench/reports.ts).
 * Beside each figure: the CPU time per answer of the school and of its PostgreSQL, which bounds
 * what an idle machine would do when the figures were taken on a busy one.
 * Prints tables and writes bench/results/latest.json with the machine beside the figures.
 *
 * --quick: a smoke run (2 s per target, fewer connections) written to bench/results/quick.json.
 */
import autocannon, { type Request, type Result } from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { projectRoot } from '../src/platform/database.ts';
import { measurePageWeight, weightTable, type PageWeightReport } from './page-weight.ts';
import { reportsTable, timeReports, type ReportTiming } from './reports.ts';
import { PASSWORD, cpuSeconds, formFields, getPage, linksOf, machine, postgresCpuSeconds, runScript, signIn, sleep, startSchool, table, zipOf, type School, type Visitor } from './support.ts';

export interface BenchOptions {
  quick: boolean;
  learners: number;
  dataDir: string;
  durationSeconds: number;
  /** Instead of a duration: this many answers per target and connection count (a smoke run that must see answers however slow the machine). */
  requestsPerTarget?: number;
  connections: number[];
  out: string;
  /** Weigh the learner pages in Chromium (bench/page-weight.ts); on unless false. */
  pageWeight?: boolean;
  log?: (line: string) => void;
}

export interface TargetResult {
  target: string;
  path: string;
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** Answers other than the one this request should get (200, or 303 after a form). */
  unexpected: number;
  requests: number;
  /** `timed`: as many answers as came in the duration; `counted`: a fixed number of answers (a smoke run, or a page too slow to answer in the duration). */
  answers?: 'timed' | 'counted';
  /**
   * CPU time per answer of the school's process and of its PostgreSQL, in ms: what the figures
   * would be bounded by on an idle machine, which a machine shared with other work cannot show.
   */
  serverCpuMs: number | null;
  postgresCpuMs: number | null;
  goal: string | null;
  goalMet: boolean | null;
  skipped?: string;
}

/** The targets of issue 9 on a 2-core machine. */
const GOALS: Record<string, { connections: number; text: string; met: (r: Result) => boolean }> = {
  'lesson page': { connections: 50, text: '≥ 900 req/s, p99 < 50 ms', met: (r) => r.requests.average >= 900 && r.latency.p99 < 50 },
  'SCORM commit': { connections: 50, text: 'p99 < 30 ms', met: (r) => r.latency.p99 < 30 },
};

export async function runBench(opts: BenchOptions) {
  const log = opts.log ?? ((line: string) => console.log(line));
  const school = await startSchool({ dataDir: opts.dataDir });
  try {
    await ensureSeeded(school, opts, log);
    const fx = await fixtures(school, Math.max(...opts.connections));
    log(`Signed in ${fx.scormTokens.length} learners for SCORM commits; lesson ${fx.lessonPath}, quiz ${fx.quizPath ?? '—'}, report ${fx.reportPath ?? '—'}.`);

    const targets: { name: string; path: string; expected: number; request: () => Request; skipped?: string }[] = [
      { name: 'lesson page', path: fx.lessonPath, expected: 200, request: () => ({ method: 'GET', path: fx.lessonPath, headers: { cookie: fx.learner.cookie } }) },
      scormTarget(fx),
      quizTarget(fx),
      { name: 'grading queue', path: '/assignments', expected: 200, request: () => ({ method: 'GET', path: '/assignments', headers: { cookie: fx.teacher.cookie } }) },
      fx.reportPath
        ? { name: 'enrolment report', path: fx.reportPath, expected: 200, request: () => ({ method: 'GET', path: fx.reportPath!, headers: { cookie: fx.coordinator.cookie } }) }
        : { name: 'enrolment report', path: '/reports', expected: 200, request: () => ({}), skipped: 'no report pages yet' },
    ];

    const results: TargetResult[] = [];
    for (const t of targets) {
      for (const connections of opts.connections) {
        const goal = GOALS[t.name]?.connections === connections ? GOALS[t.name]! : null;
        if (t.skipped) {
          results.push({ target: t.name, path: t.path, connections, requestsPerSecond: 0, p50Ms: 0, p99Ms: 0, errors: 0, non2xx: 0, unexpected: 0, requests: 0, serverCpuMs: null, postgresCpuMs: null, goal: goal?.text ?? null, goalMet: null, skipped: t.skipped });
          continue;
        }
        // Requests still queued from the run before (autocannon stops sending, the school goes on
        // answering) would be measured as this target's slowness: wait until the school is idle.
        await settle(school, opts.dataDir);
        log(`${t.name} at ${connections} connections ${opts.requestsPerTarget ? `for ${opts.requestsPerTarget} requests` : `for ${opts.durationSeconds} s`}…`);
        const length = opts.requestsPerTarget ? { amount: opts.requestsPerTarget } : { duration: opts.durationSeconds };
        let cpu0 = [cpuSeconds(school.pid), postgresCpuSeconds(opts.dataDir)];
        let r = await autocannon({ url: school.url, connections, ...length, timeout: 60, requests: [t.request()] });
        let total = Object.values(r.statusCodeStats ?? {}).reduce((a, s) => a + s.count, 0);
        let answers: 'timed' | 'counted' = opts.requestsPerTarget ? 'counted' : 'timed';
        if (total === 0) {
          // Not one answer within the time: a page this slow is measured by two answers per connection instead.
          log(`  no answer within ${opts.durationSeconds} s; measuring ${connections * 2} answers instead…`);
          await settle(school, opts.dataDir);
          cpu0 = [cpuSeconds(school.pid), postgresCpuSeconds(opts.dataDir)];
          r = await autocannon({ url: school.url, connections, amount: connections * 2, timeout: 120, requests: [t.request()] });
          total = Object.values(r.statusCodeStats ?? {}).reduce((a, s) => a + s.count, 0);
          answers = 'counted';
        }
        const cpu1 = [cpuSeconds(school.pid), postgresCpuSeconds(opts.dataDir)];
        const perAnswer = (i: number) => (cpu0[i] != null && cpu1[i] != null && total > 0 ? Math.round(((cpu1[i]! - cpu0[i]!) * 1000 * 100) / total) / 100 : null);
        results.push({
          target: t.name,
          path: t.path,
          connections,
          // A counted run's per-second histogram is mostly empty seconds: its rate is answers over its duration.
          requestsPerSecond: answers === 'counted' ? Math.round((total / Math.max(r.duration, 0.001)) * 10) / 10 : Math.round(r.requests.average),
          p50Ms: r.latency.p50,
          p99Ms: r.latency.p99,
          errors: r.errors + r.timeouts,
          non2xx: r.non2xx,
          unexpected: total - (r.statusCodeStats?.[String(t.expected)]?.count ?? 0),
          requests: total,
          answers,
          serverCpuMs: perAnswer(0),
          postgresCpuMs: perAnswer(1),
          goal: goal?.text ?? null,
          goalMet: goal ? total > 0 && goal.met(r) && r.errors + r.timeouts === 0 : null,
        });
      }
    }

    await settle(school, opts.dataDir);
    const pageWeight = opts.pageWeight === false ? null : await pageWeightOf(school, fx.learner, log);
    const reports = fx.reportsVisible ? await timeReports(school.url, fx.coordinator, { runs: opts.quick ? 1 : 3 }) : [];
    const summary = {
      at: new Date().toISOString(),
      quick: opts.quick,
      durationSeconds: opts.durationSeconds,
      machine: await machine(school.databaseUrl),
      data: fx.counts,
      load: results,
      pageWeight: pageWeight?.report ?? null,
      reports,
    };
    mkdirSync(path.dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, `${JSON.stringify(summary, null, 2)}\n`);
    printSummary({ ...summary, pageWeightText: pageWeight?.text ?? null }, log);
    log(`Written to ${path.relative(projectRoot, opts.out)}.`);
    return summary;
  } finally {
    await school.stop();
  }
}

/** Waits (at most five minutes) until the school and its PostgreSQL use almost no CPU for half a second. */
async function settle(school: School, dataDir: string) {
  const busy = () => (cpuSeconds(school.pid) ?? 0) + (postgresCpuSeconds(dataDir) ?? 0);
  const deadline = Date.now() + 300_000;
  let before = busy();
  while (Date.now() < deadline) {
    await sleep(500);
    const now = busy();
    if (now - before < 0.05) return;
    before = now;
  }
}

/** The bench data folder is seeded once; a later run reuses it. */
async function ensureSeeded(school: School, opts: BenchOptions, log: (line: string) => void) {
  const seeded = await count(school.databaseUrl, `SELECT count(*) AS n FROM users WHERE username LIKE 'helios-learner-%'`);
  if (seeded >= opts.learners) return;
  if (seeded > 0) throw new Error(`${opts.dataDir} holds ${seeded} seeded learners, fewer than ${opts.learners}: delete the folder or choose another with --data-dir.`);
  log(`Seeding ${opts.learners} learners into ${opts.dataDir} (once; later runs reuse it)…`);
  await runScript('src/cli/seed-large.ts', ['--learners', String(opts.learners)], { DATA_DIR: path.resolve(projectRoot, opts.dataDir) });
}

async function count(databaseUrl: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

interface Fixtures {
  learner: Visitor;
  teacher: Visitor;
  coordinator: Visitor;
  lessonPath: string;
  quizPath: string | null;
  quizForm: [string, string][] | null;
  scormTokens: string[];
  scormProblem: string | null;
  reportPath: string | null;
  reportsVisible: boolean;
  counts: Record<string, number>;
}

/**
 * Who and what the load is made of, chosen from the seeded programme: an active learner of a
 * cohort and a lesson of a course offered to it, the cohort's teacher, the programme's coordinator.
 */
async function fixtures(school: School, scormLearners: number): Promise<Fixtures> {
  const client = new pg.Client({ connectionString: school.databaseUrl });
  await client.connect();
  let learners: string[];
  let teacher: string;
  let lessonId: number;
  let quizId: number | null;
  const counts: Record<string, number> = {};
  try {
    const { rows } = await client.query<{ username: string; cohort_id: number }>(
      `SELECT u.username, e.cohort_id FROM users u JOIN enrolments e ON e.learner_id = u.id AND e.status = 'active'
       WHERE u.username LIKE 'helios-learner-%' ORDER BY u.id LIMIT $1`,
      [scormLearners + 1],
    );
    learners = rows.map((r) => r.username);
    const cohort = rows[0]!.cohort_id;
    teacher = (await client.query<{ username: string }>(`SELECT u.username FROM cohort_teachers ct JOIN users u ON u.id = ct.user_id WHERE ct.cohort_id = $1 LIMIT 1`, [cohort])).rows[0]!.username;
    const lesson = async (type: string) =>
      (
        await client.query<{ id: number }>(
          `SELECT l.id FROM lessons l JOIN cohort_courses cc ON cc.course_id = l.course_id AND cc.cohort_id = $1 JOIN courses c ON c.id = l.course_id
           WHERE l.type = $2 AND NOT l.retired ORDER BY c.slug = 'greek-a1' DESC, l.position LIMIT 1`,
          [cohort, type],
        )
      ).rows[0]?.id ?? null;
    lessonId = (await lesson('text'))!;
    quizId = await lesson('quiz');
    for (const t of ['users', 'lesson_progress', 'study_time', 'quiz_attempts', 'submissions', 'grades', 'allowance_ledger', 'data_usage']) {
      counts[t] = Number((await client.query<{ n: string }>(`SELECT reltuples::bigint AS n FROM pg_class WHERE relname = $1`, [t])).rows[0]?.n ?? 0);
    }
    counts.learners = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM users WHERE role = 'learner'`)).rows[0]!.n);
  } finally {
    await client.end();
  }

  const learner = await signIn(school.url, learners[0]!);
  const teacherV = await signIn(school.url, teacher);
  const coordinator = await signIn(school.url, 'helios-coordinator-1');
  const lessonPath = `/lessons/${lessonId}`;
  // The first visit records the visit; the measured ones are repeat visits, like a learner reading.
  await getPage(school.url, learner, lessonPath);

  let quizForm: [string, string][] | null = null;
  let quizPath: string | null = null;
  if (quizId) {
    const page = await getPage(school.url, learner, `/lessons/${quizId}`);
    const form = page.status === 200 ? formFields(page.html, /\/quiz$/) : null;
    if (form) {
      quizPath = form.action;
      quizForm = form.fields;
    }
  }

  const { tokens, problem } = await scormTokens(school, learners.slice(1));

  const reportsIndex = await getPage(school.url, coordinator, '/reports');
  const reportsVisible = reportsIndex.status === 200;
  const reportLinks = reportsVisible ? linksOf(reportsIndex.html, '/reports/').filter((h) => !h.includes('.csv')) : [];
  const reportPath = reportLinks.find((h) => /enrol/.test(h)) ?? reportLinks[0] ?? null;
  return { learner, teacher: teacherV, coordinator, lessonPath, quizPath, quizForm, scormTokens: tokens, scormProblem: problem, reportPath, reportsVisible, counts };
}

/**
 * A small SCORM 1.2 lesson (added once through the real upload form by the demo admin), opened by
 * each learner: every sitting's launch token authorises that learner's commits.
 */
async function scormTokens(school: School, learners: string[]): Promise<{ tokens: string[]; problem: string | null }> {
  const admin = await signIn(school.url, 'admin');
  const index = await getPage(school.url, admin, '/scorm');
  if (index.status !== 200) return { tokens: [], problem: `/scorm answered ${index.status}` };
  let lessonId = /\/scorm\/lessons\/(\d+)\/report/.exec(index.html)?.[1];
  if (!lessonId) {
    const place = /<option value="(\d+:\d+)"/.exec(index.html)?.[1];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(index.html)?.[1] ?? /_csrf=([0-9a-f]+)/.exec(index.html)?.[1];
    if (!place || !csrf) return { tokens: [], problem: 'no course to add a SCORM lesson to' };
    const body = new FormData();
    body.set('place', place);
    body.set('title', 'Numbers (SCORM)');
    body.set('file', new Blob([new Uint8Array(await scormPackage())], { type: 'application/zip' }), 'numbers.zip');
    const res = await fetch(`${school.url}/scorm?_csrf=${encodeURIComponent(csrf)}`, { method: 'POST', body, redirect: 'manual', headers: { cookie: admin.cookie } });
    lessonId = /\/scorm\/lessons\/(\d+)/.exec(res.headers.get('location') ?? '')?.[1];
    if (!lessonId) return { tokens: [], problem: `the SCORM upload answered ${res.status}` };
  }
  const tokens: string[] = [];
  for (const username of learners) {
    const visitor = await signIn(school.url, username);
    const page = await getPage(school.url, visitor, `/scorm/lessons/${lessonId}`);
    const token = /\/play\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(page.html)?.[1];
    if (token) tokens.push(token);
  }
  return { tokens, problem: tokens.length ? null : `no launch token on /scorm/lessons/${lessonId}` };
}

function scormPackage(): Promise<Buffer> {
  const manifest = `<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="org.dars.bench.numbers" version="1.0" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="ORG">
    <organization identifier="ORG"><title>Numbers</title>
      <item identifier="ITEM" identifierref="RES"><title>Numbers</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="RES" type="webcontent" adlcp:scormtype="sco" href="index.html"><file href="index.html"/></resource>
  </resources>
</manifest>`;
  return zipOf([
    { name: 'imsmanifest.xml', data: manifest },
    { name: 'index.html', data: '<!doctype html><html lang="en"><title>Numbers</title><p>One, two, three.</p></html>' },
  ]);
}

/** Commits as a player sends them mid-sitting: each learner's sequence numbers go up by one. */
function scormTarget(fx: Fixtures) {
  const name = 'SCORM commit';
  if (!fx.scormTokens.length) return { name, path: '/scorm/commit', expected: 200, request: () => ({}), skipped: fx.scormProblem ?? 'no launch tokens' };
  const seq = fx.scormTokens.map(() => 0);
  let next = 0;
  return {
    name,
    path: '/scorm/commit',
    expected: 200,
    request: (): Request => ({
      method: 'POST',
      path: '/scorm/commit',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      setupRequest: (req) => {
        const i = next++ % fx.scormTokens.length;
        const n = ++seq[i]!;
        const cmi = { core: { lesson_location: String(n % 10), lesson_status: 'incomplete', session_time: `00:${String(Math.floor(n / 60) % 60).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}` }, suspend_data: `page=${n % 10}` };
        return { ...req, body: JSON.stringify({ token: fx.scormTokens[i], seq: n, cmi }) };
      },
    }),
  };
}

/** The quiz form as the page offers it, each submit with a request id of its own (a new attempt). */
function quizTarget(fx: Fixtures) {
  const name = 'quiz submit';
  if (!fx.quizPath || !fx.quizForm) return { name, path: '/lessons/:id/quiz', expected: 303, request: () => ({}), skipped: 'no quiz form on the quiz lesson' };
  const fields = fx.quizForm;
  const run = Math.random().toString(36).slice(2, 8);
  let n = 0;
  return {
    name,
    path: fx.quizPath,
    expected: 303,
    request: (): Request => ({
      method: 'POST',
      path: fx.quizPath!,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: fx.learner.cookie },
      setupRequest: (req) => {
        const body = new URLSearchParams(fields.map(([k, v]) => [k, k === 'requestId' ? `bench-${run}-${++n}` : v]));
        return { ...req, body: body.toString() };
      },
    }),
  };
}

/** The learner pages weighed in Chromium as the bench learner (bench/page-weight.ts), with its table. */
async function pageWeightOf(school: School, learner: Visitor, log: (line: string) => void): Promise<{ report: PageWeightReport | { error: string }; text: string | null }> {
  log('Page weight…');
  try {
    const report = await measurePageWeight({ baseUrl: school.url, username: learner.username, password: PASSWORD, courseTitle: /greek/i });
    return { report, text: weightTable(report) };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { report: { error }, text: `Page weight could not be measured: ${error}` };
  }
}

function printSummary(s: { machine: Awaited<ReturnType<typeof machine>>; data: Record<string, number>; load: TargetResult[]; pageWeightText: string | null; reports: ReportTiming[] }, log: (line: string) => void) {
  const m = s.machine;
  log('');
  log(`Machine: ${m.cores} cores, ${m.cpu}, ${m.ramGb} GB RAM, ${m.os}; Node ${m.node}; PostgreSQL ${m.postgres}; load average ${m.loadAverage.join(' ')}`);
  log(`Data: ${s.data.learners} learners, ~${s.data.lesson_progress} progress records, ~${s.data.submissions} submissions, ~${s.data.allowance_ledger} ledger entries.`);
  log('');
  log(
    table(
      ['target', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'unexpected', 'CPU ms/req node+pg', 'goal'],
      s.load.map((r) =>
        r.skipped
          ? [r.target, r.connections, '—', '—', '—', '—', '—', '—', '—', `skipped: ${r.skipped}`]
          : [r.target, r.connections, `${r.requestsPerSecond}${r.answers === 'counted' ? '*' : ''}`, r.p50Ms, r.p99Ms, r.errors, r.non2xx, r.unexpected, cpuText(r), r.goal ? `${r.goal}: ${r.goalMet ? 'met' : 'MISSED'}` : ''],
      ),
    ),
  );
  if (s.load.some((r) => r.answers === 'counted' && !r.skipped)) log('* a fixed number of answers rather than a timed run (see "answers" in the results file)');
  if (s.pageWeightText) {
    log('');
    log(s.pageWeightText);
  }
  if (s.reports.length) {
    log('');
    log(reportsTable(s.reports));
  }
}

const cpuText = (r: TargetResult) => (r.serverCpuMs === null ? '—' : `${r.serverCpuMs.toFixed(2)}+${r.postgresCpuMs?.toFixed(2) ?? '?'}`);

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      learners: { type: 'string' },
      'data-dir': { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const quick = !!values.quick;
  const opts: BenchOptions = {
    quick,
    learners: Number(values.learners ?? (quick ? 500 : 10_000)),
    dataDir: values['data-dir'] ?? (quick ? 'data/bench-quick' : 'data/bench'),
    durationSeconds: Number(values.duration ?? (quick ? 2 : 10)),
    connections: (values.connections ?? '10,50').split(',').map(Number),
    out: path.resolve(projectRoot, values.out ?? (quick ? 'bench/results/quick.json' : 'bench/results/latest.json')),
  };
  try {
    await runBench(opts);
    process.exit(0);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
