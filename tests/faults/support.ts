/**
 * Shared steps of the fault and backup tests: the real app over a database the test chose (not a
 * fresh clone), a free port, the real server as a child process, and markers that make every
 * write recognisable afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import pg from 'pg';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { entities } from '../../src/entities.ts';
import { openOrm } from '../../src/platform/database.ts';
import { createI18n } from '../../src/platform/i18n.ts';
import { createLogger } from '../../src/platform/logger.ts';

export const SECRET = 'fault-tests-secret-fault-tests-secret-0123';

/** The app in this process over `databaseUrl`, wired as src/server.ts wires it. */
export async function appOn(databaseUrl: string, dataDir: string) {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: databaseUrl, DATA_DIR: dataDir, SESSION_SECRET: SECRET, LOG_LEVEL: 'silent', DEMO: 'false' });
  const orm = await openOrm(databaseUrl, entities, { poolMax: 5 });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  const app = createApp({ config, orm, pool, logger: createLogger('silent'), i18n: await createI18n('en') });
  const servers: Server[] = [];
  return {
    app,
    orm,
    config,
    listen: () =>
      new Promise<string>((resolve) => {
        const server = app.listen(0, '127.0.0.1', () => {
          servers.push(server);
          resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
        });
      }),
    close: async () => {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
      await pool.end();
      await orm.close();
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Where a started server listens: the school and its SCORM content origin (a second port). */
export interface ServerPorts {
  port: number;
  contentPort: number;
}

export interface StartedServer {
  child: ChildProcess;
  url: string;
  contentOrigin: string;
  ports: ServerPorts;
  output: () => string;
}

/**
 * `src/server.ts` in a process of its own (LOG_LEVEL=warn: it prints only trouble), resolved once
 * /healthz answers 200. Given `ports`, it listens where an earlier one did, as a restarted server
 * does; otherwise on free ports (never the default content port, which tests running side by
 * side would fight over).
 */
export async function startServer(env: Record<string, string>, ports?: ServerPorts, limits: { fileSizeBlocks?: number } = {}): Promise<StartedServer> {
  const { port, contentPort } = ports ?? { port: await freePort(), contentPort: await freePort() };
  const url = `http://127.0.0.1:${port}`;
  const contentOrigin = `http://127.0.0.1:${contentPort}`;
  // `ulimit -f` (RLIMIT_FSIZE, in the shell's blocks) makes any file the server writes past that
  // size fail with EFBIG half-way through, as a full disk does: a real failed write, no mock.
  const [command, args] = limits.fileSizeBlocks
    ? ['/bin/sh', ['-c', `ulimit -f ${limits.fileSizeBlocks} && exec "$0" src/server.ts`, process.execPath]]
    : [process.execPath, ['src/server.ts']];
  const child = spawn(command, args as string[], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      APP_ORIGIN: `http://localhost:${port}`,
      CONTENT_ORIGIN: contentOrigin,
      CONTENT_PORT: String(contentPort),
      DEMO: 'false',
      LOG_LEVEL: 'warn',
      SESSION_SECRET: SECRET,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`server exited (${code ?? signal}): ${out}`))));
  exited.catch(() => {});
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await Promise.race([
      fetch(`${url}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      ),
      exited,
    ]);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`server did not become healthy: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url, contentOrigin, ports: { port, contentPort }, output: () => out };
}

/** Ends a child process and waits until it is gone. */
export async function kill(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await gone;
}

/**
 * A browser without JavaScript, as far as the server can tell: cookies, the page's CSRF token,
 * form posts, redirects not followed (a 303 is the answer that says "stored").
 */
export class FormClient {
  base: string;
  csrf = '';
  readonly cookies = new Map<string, string>();

  constructor(base: string) {
    this.base = base;
  }

  async request(method: 'GET' | 'POST', path: string, body?: URLSearchParams | FormData): Promise<Response> {
    const res = await fetch(this.base + path, {
      method,
      body,
      redirect: 'manual',
      headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'accept-language': 'en' },
      signal: AbortSignal.timeout(15_000),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const [name, value] = [pair!.slice(0, at), pair!.slice(at + 1)];
      if (value && !/expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.set(name, value);
      else this.cookies.delete(name);
    }
    return res;
  }

  /** GETs a page and keeps its CSRF token. */
  async page(path: string): Promise<{ status: number; text: string }> {
    const res = await this.request('GET', path);
    const text = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(text) ?? /_csrf=([0-9a-zA-Z_-]+)/.exec(text);
    if (m) this.csrf = m[1]!;
    return { status: res.status, text };
  }

  async form(path: string, fields: Record<string, string>): Promise<Response> {
    return this.request('POST', path, new URLSearchParams({ _csrf: this.csrf, ...fields }));
  }

  /** A multipart form: the CSRF token travels in the address, as the app's upload forms send it. */
  async upload(path: string, fields: Record<string, string>, files: { field: string; name: string; type: string; data: Buffer }[]): Promise<Response> {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    for (const f of files) form.append(f.field, new Blob([new Uint8Array(f.data)], { type: f.type }), f.name);
    return this.request('POST', `${path}${path.includes('?') ? '&' : '?'}_csrf=${encodeURIComponent(this.csrf)}`, form);
  }

  async signIn(username: string, password: string) {
    await this.page('/login');
    const res = await this.form('/login', { login: username, password });
    if (res.status !== 303) throw new Error(`sign-in of ${username} answered ${res.status}`);
    await this.page('/profile');
  }
}
