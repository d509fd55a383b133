/**
 * Times every report page a coordinator can open, on whatever data the school holds (measure it
 * after `npm run seed:large`): each page is fetched once to warm up, then `runs` times in a row;
 * the table shows the median and the slowest. Target: every page under 1 s. Run on its own, it
 * also shows the CPU time the school and its PostgreSQL spent per answer, and the machine's load
 * average before and after: on a machine busy with other work the wall-clock times stretch, the
 * CPU time much less. It first waits for the school's first rollup refresh, and says how long
 * that took.
 *
 * Each report is timed as linked, then again broken down by one learner fact (`--by`, default sex:
 * donors ask for figures by sex, age and status, and a breakdown costs a join to every learner).
 * Around the run it times a fixed loop of JavaScript, as a yardstick of how fast the machine was
 * then: on a shared machine the same page can take half as long again when a neighbour is busy.
 *
 * `npm run bench:reports [-- --runs 3 --by sex --user helios-coordinator-1]` starts the school on
 * DATA_DIR (default `data`) and measures; `--by none` leaves the breakdowns out. `npm run bench`
 * calls timeReports as one of its parts.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { cpuSeconds, getPage, linksOf, postgresCpuSeconds, signIn, startSchool, table, type Visitor } from './support.ts';

export const REPORT_TARGET_MS = 1000;

export interface ReportTiming {
  path: string;
  status: number;
  bytes: number;
  medianMs: number;
  maxMs: number;
  /**
   * CPU time of the school and its PostgreSQL per answer, in ms, when the caller can read it: a
   * machine shared with other work stretches the wall-clock times, not this.
   */
  cpuMs?: number | null;
  underTarget: boolean;
}

/** The report pages linked from /reports (each report and the donor page), CSV downloads left out. */
export async function reportPages(baseUrl: string, visitor: Visitor): Promise<string[]> {
  const index = await getPage(baseUrl, visitor, '/reports');
  if (index.status !== 200) throw new Error(`/reports answered ${index.status} for ${visitor.username}.`);
  return ['/reports', ...linksOf(index.html, '/reports/').filter((href) => !/\.csv(\?|$)/.test(href))];
}

export async function timeReports(baseUrl: string, visitor: Visitor, opts: { runs?: number; paths?: string[]; cpuSeconds?: () => number | null } = {}): Promise<ReportTiming[]> {
  const runs = opts.runs ?? 3;
  const paths = opts.paths ?? (await reportPages(baseUrl, visitor));
  const out: ReportTiming[] = [];
  for (const p of paths) {
    const first = await getPage(baseUrl, visitor, p);
    const times: number[] = [];
    const cpu0 = opts.cpuSeconds?.() ?? null;
    let status = first.status;
    let bytes = Buffer.byteLength(first.html);
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const page = await getPage(baseUrl, visitor, p);
      times.push(performance.now() - t);
      status = page.status;
      bytes = Buffer.byteLength(page.html);
    }
    const cpu1 = opts.cpuSeconds?.() ?? null;
    const cpuMs = cpu0 === null || cpu1 === null ? null : Math.round(((cpu1 - cpu0) * 1000) / runs);
    times.sort((a, b) => a - b);
    const medianMs = Math.round(times[Math.floor(times.length / 2)]!);
    const maxMs = Math.round(times[times.length - 1]!);
    out.push({ path: p, status, bytes, medianMs, maxMs, ...(opts.cpuSeconds ? { cpuMs } : {}), underTarget: status === 200 && maxMs < REPORT_TARGET_MS });
  }
  return out;
}

export function reportsTable(rows: ReportTiming[]): string {
  const cpu = rows.some((r) => r.cpuMs !== undefined);
  return table(
    ['report page', 'status', 'KB', 'median ms', 'max ms', ...(cpu ? ['CPU ms'] : []), `target < ${REPORT_TARGET_MS} ms`],
    rows.map((r) => [
      r.path.length > 68 ? `${r.path.slice(0, 65)}…` : r.path,
      r.status,
      (r.bytes / 1024).toFixed(1),
      r.medianMs,
      r.maxMs,
      ...(cpu ? [r.cpuMs ?? '—'] : []),
      r.underTarget ? 'met' : 'MISSED',
    ]),
  );
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

/** Milliseconds a fixed loop of arithmetic takes on one core: the same figure on a quiet machine every time. */
function yardstick(): number {
  const t = performance.now();
  let x = 0;
  for (let i = 0; i < 300_000_000; i++) x += i % 7;
  if (x < 0) console.log(x); // keeps the loop from being optimised away
  return Math.round(performance.now() - t);
}

/** The pages again with a breakdown (the index page has none). */
export function brokenDown(paths: string[], by: string): string[] {
  return paths.filter((p) => p.includes('?')).map((p) => `${p}&by=${encodeURIComponent(by)}`);
}

/**
 * Waits for the school's first rollup refresh (it starts a few seconds after the school) and says
 * how long it took: a page timed while it runs would be charged the refresh's CPU too.
 */
export async function firstRefresh(databaseUrl: string, since: Date, timeoutMs = 10 * 60_000): Promise<number | null> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) {
      const { rows } = await client.query<{ at: Date | null }>('SELECT (SELECT refreshed_at FROM report_rollup_state WHERE id = 1) AS at');
      const at = rows[0]?.at;
      if (at && at > since) return (Date.now() - since.getTime()) / 1000;
    }
    return null;
  } finally {
    await client.end();
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '3' }, by: { type: 'string', default: 'sex' }, user: { type: 'string', default: 'helios-coordinator-1' }, password: { type: 'string', default: 'demo1234' } },
  });
  const dataDir = process.env.DATA_DIR ?? 'data';
  const started = new Date();
  const school = await startSchool({ dataDir, databaseUrl: process.env.DATABASE_URL });
  let code = 0;
  try {
    const refreshed = await firstRefresh(school.databaseUrl, started);
    console.log(refreshed === null ? 'The first rollup refresh did not finish in 10 minutes; timing anyway.' : `Rollups refreshed ${refreshed.toFixed(1)} s after the school started.`);
    const visitor = await signIn(school.url, values.user!, values.password);
    // CPU ms: the school's process and its embedded PostgreSQL (none for an external database).
    const cpu = () => {
      const [node, postgres] = [cpuSeconds(school.pid), postgresCpuSeconds(dataDir)];
      return node === null || postgres === null ? null : node + postgres;
    };
    const before = { load: load(), yardstick: yardstick() };
    const pages = await reportPages(school.url, visitor);
    const paths = values.by === 'none' ? pages : [...pages, ...brokenDown(pages, values.by!)];
    const rows = await timeReports(school.url, visitor, { runs: Number(values.runs), paths, cpuSeconds: cpu });
    console.log(reportsTable(rows));
    console.log(`Load average (1, 5, 15 min) before: ${before.load}; after: ${load()}; ${os.availableParallelism()} cores.`);
    console.log(`Yardstick (a fixed loop, ms; lower is a faster machine) before: ${before.yardstick}; after: ${yardstick()}.`);
    if (rows.some((r) => !r.underTarget)) code = 1;
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    code = 1;
  } finally {
    await school.stop();
  }
  process.exit(code);
}
