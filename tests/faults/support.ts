/**
 * Shared steps of the fault, backup and multi-process tests: the real app over a database the
 * test chose (not a fresh clone), free ports, the real server as a child process (optionally with
 * a file size limit, or N workers), and a form-posting client that can stay on one worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http, { type Server } from 'node:http';
import type { Socket } from 'node:net';
import pg from 'pg';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { entities } from '../../src/entities.ts';
import { openOrm } from '../../src/platform/database.ts';
import { createI18n } from '../../src/platform/i18n.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { freePort } from '../../src/platform/embedded-postgres.ts';

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
  // Generous: a loaded machine (CI, parallel test files) takes a while to start N processes.
  const deadline = Date.now() + 60_000;
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
  /** Set by pin(): every request goes over one kept-alive connection, to one worker process. */
  private connection: http.Agent | undefined;
  /** Which worker answered last (the X-Dars-Worker header of a multi-process server). */
  worker: string | null = null;
  /** Bytes received over the pinned connection since it was pinned: headers and bodies, as sent. */
  received = 0;
  private readonly seen = new WeakMap<Socket, number>();

  constructor(base: string) {
    this.base = base;
  }

  /**
   * Opens connections until one lands on `worker` (node:cluster hands each new connection to the
   * next worker) and keeps it: from then on this client talks to that worker only.
   */
  async pin(worker: string) {
    for (let i = 0; i < 40; i++) {
      const connection = new http.Agent({ keepAlive: true, maxSockets: 1 });
      this.connection = connection;
      await (await this.request('GET', '/healthz')).arrayBuffer();
      if (this.worker === worker) {
        this.received = 0;
        return;
      }
      connection.destroy();
    }
    throw new Error(`no connection reached worker ${worker}`);
  }

  /** A client whose every request opens a new connection (which node:cluster may give to any worker). */
  static fresh(base: string): FormClient {
    const client = new FormClient(base);
    client.connection = new http.Agent({ keepAlive: false });
    return client;
  }

  /**
   * The worker ids of a multi-process server, from the answers to fresh connections; waits (up to
   * 20 s) until `count` workers answer, as the last ones may still be starting.
   */
  static async workers(base: string, count: number): Promise<string[]> {
    const ids = new Set<string>();
    const deadline = Date.now() + 20_000;
    while (ids.size < count && Date.now() < deadline) {
      const client = FormClient.fresh(base);
      await (await client.request('GET', '/healthz').catch(() => undefined))?.arrayBuffer();
      if (client.worker) ids.add(client.worker);
      else await new Promise((r) => setTimeout(r, 100));
    }
    return [...ids].sort();
  }

  async request(method: 'GET' | 'POST', path: string, body?: URLSearchParams | FormData): Promise<Response> {
    const headers = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'accept-language': 'en' };
    const res = this.connection
      ? await this.overConnection(this.connection, method, path, headers, body)
      : await fetch(this.base + path, { method, body, redirect: 'manual', headers, signal: AbortSignal.timeout(15_000) });
    this.worker = res.headers.get('x-dars-worker');
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const [name, value] = [pair!.slice(0, at), pair!.slice(at + 1)];
      if (value && !/expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.set(name, value);
      else this.cookies.delete(name);
    }
    return res;
  }

  /** One request over the pinned connection, counting the bytes that came back on it. */
  private async overConnection(connection: http.Agent, method: string, path: string, headers: Record<string, string>, body?: URLSearchParams | FormData): Promise<Response> {
    // Request encodes the body (and names its content type) as fetch would send it.
    const encoded = new Request(this.base + path, { method, body });
    const bytes = body ? Buffer.from(await encoded.arrayBuffer()) : undefined;
    const sent = { ...headers, ...(bytes ? { 'content-type': encoded.headers.get('content-type')!, 'content-length': String(bytes.length) } : {}) };
    return new Promise<Response>((resolve, reject) => {
      const req = http.request(this.base + path, { method, agent: connection, headers: sent, timeout: 15_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const socket = req.socket!;
          this.received += socket.bytesRead - (this.seen.get(socket) ?? 0);
          this.seen.set(socket, socket.bytesRead);
          const h = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          const empty = [204, 304].includes(res.statusCode!);
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status: res.statusCode!, headers: h }));
        });
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer`)));
      req.end(bytes);
    });
  }

  /** Another client in the same session (a second tab, the same form sent twice). */
  sameSession(): FormClient {
    const twin = new FormClient(this.base);
    for (const [k, v] of this.cookies) twin.cookies.set(k, v);
    twin.csrf = this.csrf;
    return twin;
  }

  /** GETs a page and keeps its CSRF token. */
  async page(path: string): Promise<{ status: number; text: string; cacheControl: string | null }> {
    const res = await this.request('GET', path);
    const text = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(text) ?? /_csrf=([0-9a-zA-Z_-]+)/.exec(text);
    if (m) this.csrf = m[1]!;
    return { status: res.status, text, cacheControl: res.headers.get('cache-control') };
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
