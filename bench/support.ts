/**
 * What every benchmark needs: the real school running as its own process on a data folder of its
 * own, signed-in visitors, the forms of its pages, the machine it ran on, and a table to print.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import pg from 'pg';
import { ZipFile } from 'yazl';
import { projectRoot } from '../src/platform/database.ts';
import { freePort, runningEmbeddedPostgres } from '../src/platform/embedded-postgres.ts';

export const PASSWORD = 'demo1234';

export interface School {
  url: string;
  contentOrigin: string;
  databaseUrl: string;
  /** The server process, whose CPU time a benchmark may read. */
  pid: number;
  stop: () => Promise<void>;
}

/**
 * Starts `node src/server.ts` on the data folder (its embedded PostgreSQL, migrations, demo school)
 * in production mode, as a school would run, and waits until it answers /healthz. Sign-in rate
 * limits are lifted: the benchmark signs in many learners from one address.
 */
export async function startSchool(opts: { dataDir: string; logLevel?: string; databaseUrl?: string; log?: (line: string) => void }): Promise<School> {
  const dataDir = path.resolve(projectRoot, opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const [port, contentPort] = [await freePort(), await freePort()];
  const url = `http://localhost:${port}`;
  const contentOrigin = `http://127.0.0.1:${contentPort}`;
  const child = spawn(process.execPath, [path.join(projectRoot, 'src/server.ts')], {
    cwd: projectRoot,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
      SESSION_SECRET: benchSecret(dataDir),
      PORT: String(port),
      CONTENT_PORT: String(contentPort),
      HOST: '127.0.0.1',
      APP_ORIGIN: url,
      CONTENT_ORIGIN: contentOrigin,
      LOG_LEVEL: opts.logLevel ?? 'warn',
      LOGIN_RATE_PER_IP: '1000000',
      LOGIN_MAX_FAILURES: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 40) tail.shift();
      opts.log?.(line);
    }
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 10 * 60_000; // a first start imports the courses and may wait on a busy machine
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The school stopped while starting (exit ${child.exitCode}):\n${tail.join('\n')}`);
    if (Date.now() > deadline) {
      await stopChild(child, exited);
      throw new Error(`The school did not answer /healthz in time:\n${tail.join('\n')}`);
    }
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await sleep(250);
  }
  const databaseUrl = opts.databaseUrl ?? runningEmbeddedPostgres(path.join(dataDir, 'pg'))?.url('dars');
  if (!databaseUrl) {
    await stopChild(child, exited);
    throw new Error('The school is up but its embedded database was not found.');
  }
  return { url, contentOrigin, databaseUrl, pid: child.pid!, stop: () => stopChild(child, exited) };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
  if (!done) child.kill('SIGKILL');
}

/** A session secret of the bench data folder, the same on every run so its sessions stay valid. */
function benchSecret(dataDir: string) {
  const file = path.join(dataDir, 'bench-session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** Runs a command of this project (a Node script) and resolves when it ends well. */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(projectRoot, script), ...args], { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} ${args.join(' ')} ended with ${code}`))));
  });
}

// --- Visitors ---------------------------------------------------------------------------------

export interface Visitor {
  username: string;
  cookie: string;
}

function cookiesOf(res: Response, jar: Map<string, string>) {
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
  }
}
const cookieHeader = (jar: Map<string, string>) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

/** Signs in through the real login form, as a browser does. */
export async function signIn(baseUrl: string, username: string, password = PASSWORD): Promise<Visitor> {
  const jar = new Map<string, string>();
  const page = await fetch(`${baseUrl}/login`);
  cookiesOf(page, jar);
  const csrf = csrfOf(await page.text());
  const res = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
    body: new URLSearchParams({ _csrf: csrf, login: username, password }),
  });
  cookiesOf(res, jar);
  if (res.status !== 303) throw new Error(`Signing in as ${username} failed (${res.status}).`);
  return { username, cookie: cookieHeader(jar) };
}

export async function getPage(baseUrl: string, visitor: Visitor | null, pathname: string) {
  const res = await fetch(`${baseUrl}${pathname}`, { redirect: 'manual', headers: visitor ? { cookie: visitor.cookie } : {} });
  return { status: res.status, html: await res.text(), location: res.headers.get('location') };
}

export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html) ?? /_csrf=([0-9a-f]+)/.exec(html);
  if (!m) throw new Error('No CSRF token on the page.');
  return m[1]!;
}

const unescapeHtml = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x3D;/g, '=');

/**
 * The fields a browser would send for a form whose action matches: hidden fields as they are,
 * the first choice of each radio group and checkbox, "yes" in text boxes.
 */
export function formFields(html: string, action: RegExp): { action: string; fields: [string, string][] } | null {
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const act = /action="([^"]*)"/.exec(m[1]!)?.[1];
    if (!act || !action.test(unescapeHtml(act))) continue;
    const fields: [string, string][] = [];
    const chosen = new Set<string>();
    for (const input of m[2]!.matchAll(/<(input|textarea)\b([^>]*)>/g)) {
      const attr = (n: string) => new RegExp(`\\b${n}="([^"]*)"`).exec(input[2]!)?.[1];
      const name = attr('name');
      if (!name) continue;
      const type = input[1] === 'textarea' ? 'text' : (attr('type') ?? 'text');
      const value = unescapeHtml(attr('value') ?? '');
      if (type === 'radio' || type === 'checkbox') {
        if (chosen.has(name)) continue;
        chosen.add(name);
        fields.push([name, value]);
      } else if (type === 'hidden') fields.push([name, value]);
      else if (type === 'text' || type === 'search') fields.push([name, 'yes']);
    }
    return { action: unescapeHtml(act), fields };
  }
  return null;
}

export function linksOf(html: string, prefix: string): string[] {
  const out = new Set<string>();
  for (const m of html.matchAll(/href="([^"]+)"/g)) {
    const href = unescapeHtml(m[1]!);
    if (href.startsWith(prefix)) out.add(href);
  }
  return [...out];
}

// --- The machine -------------------------------------------------------------------------------

export interface Machine {
  cores: number;
  cpu: string;
  ramGb: number;
  node: string;
  postgres: string;
  os: string;
  loadAverage: number[];
}

export async function machine(databaseUrl: string): Promise<Machine> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>(`SELECT current_setting('server_version') AS v`);
    return {
      cores: os.availableParallelism(),
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
      ramGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      node: process.version,
      postgres: rows[0]!.v,
      os: `${os.type()} ${os.release()}`,
      loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    };
  } finally {
    await client.end();
  }
}

// --- Output ---------------------------------------------------------------------------------

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

// --- Small things -----------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A zip of small files: enough for a SCORM package. */
export async function zipOf(entries: { name: string; data: string | Buffer }[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const e of entries) zip.addBuffer(Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data, 'utf8'), e.name);
  zip.end();
  return buffer(zip.outputStream);
}

/** The fields after the command name in /proc/<pid>/stat, or null when the process is gone. */
function procStat(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  } catch {
    return null;
  }
}
// utime and stime (fields 14 and 15 of stat) are in clock ticks: 100 a second on Linux.
const ticks = (f: string[]) => (Number(f[11]) + Number(f[12])) / 100;

/** CPU seconds a process of this machine has used so far (Linux /proc), or null. */
export function cpuSeconds(pid: number): number | null {
  const f = procStat(pid);
  return f ? ticks(f) : null;
}

/**
 * CPU seconds used so far by the embedded PostgreSQL of a data folder: the postmaster and every
 * process it started (the backends serving the school). Null for an external database.
 */
export function postgresCpuSeconds(dataDir: string): number | null {
  const pidFile = path.join(path.resolve(projectRoot, dataDir), 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const own = cpuSeconds(postmaster);
  if (own === null) return null;
  let total = own;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = procStat(Number(entry));
    // Field 4 is the parent; once a backend exits its time is counted in the postmaster's children's times (fields 16, 17).
    if (f && Number(f[1]) === postmaster) total += ticks(f);
  }
  const f = procStat(postmaster);
  return f ? total + (Number(f[13]) + Number(f[14])) / 100 : total;
}
