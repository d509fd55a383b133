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

/** `src/server.ts` in a process of its own, resolved once it says it is running. */
export async function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['src/server.ts'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DEMO: 'false', LOG_LEVEL: 'info', SESSION_SECRET: SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Dars is running')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`server exited (${code ?? signal}): ${out}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, output: () => out };
}

/** Ends a child process and waits until it is gone. */
export async function kill(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await gone;
}
