/**
 * The database: where it is (external or embedded), the ORM over it, and migrations.
 * Slices hand their entities in through src/entities.ts; platform knows no slice.
 */
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, defineConfig, type EntitySchema } from '@mikro-orm/postgresql';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const migrationsPath = path.join(projectRoot, 'migrations');

export interface DatabaseLocation {
  url: string;
  /** Stops the embedded server; a no-op for an external database. */
  stop: () => Promise<void>;
}

/** DATABASE_URL when given; otherwise a private PostgreSQL under DATA_DIR/pg with a `dars` database. */
export async function locateDatabase(opts: { databaseUrl?: string; dataDir: string }): Promise<DatabaseLocation> {
  if (opts.databaseUrl) return { url: opts.databaseUrl, stop: async () => {} };
  const server = await startEmbeddedPostgres({ dir: path.join(opts.dataDir, 'pg') });
  await ensureDatabase(server.url('postgres'), 'dars');
  return { url: server.url('dars'), stop: server.stop };
}

export async function ensureDatabase(adminUrl: string, name: string, template?: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      const from = template ? ` TEMPLATE ${pg.escapeIdentifier(template)} STRATEGY file_copy` : '';
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}${from}`);
    }
  } finally {
    await client.end();
  }
}

export function ormConfig(url: string, entities: EntitySchema<any, any>[], opts: { poolMax?: number } = {}) {
  return defineConfig({
    clientUrl: url,
    entities,
    extensions: [Migrator],
    pool: { max: opts.poolMax ?? 10 },
    driverOptions: { onPoolCreated: releaseLostConnections },
    migrations: {
      path: migrationsPath,
      emit: 'ts',
      // New migrations are diffed against a database migrated to the latest state, not against a
      // snapshot file: one fewer generated file to keep in step when several slices add tables.
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      // Applied migrations are logged once through pino by whoever runs them, not per test database.
      silent: true,
    },
    // Library-owned tables (session store, rate limiter) are created by a migration and must never
    // appear in a schema diff as something to drop.
    schemaGenerator: { skipTables: ['session', 'rate_limits'] },
    // Entities are never fetched lazily behind the scenes: a slow phone pays for every query.
    forceUndefined: false,
    debug: false,
  });
}

/**
 * A pooled connection that PostgreSQL drops while it is checked out (a restart, a failover) goes
 * back to the pool only when its holder releases it, and Kysely releases a transaction's
 * connection only after its COMMIT or ROLLBACK succeeded, which they cannot on a dead connection.
 * Each such connection would stay counted as in use for good, until the pool had none left and
 * every request waited forever. So a connection that ends while checked out is released (and
 * thrown away) at once; its holder's own release later does nothing.
 */
function releaseLostConnections(pool: pg.Pool) {
  const checkedOut = new WeakSet<pg.PoolClient>();
  pool.on('acquire', (client) => checkedOut.add(client));
  pool.on('release', (_err, client) => checkedOut.delete(client));
  pool.on('connect', (client) =>
    client.once('end', () => {
      if (!checkedOut.has(client)) return;
      client.release(new Error('the database closed this connection'));
      client.release = () => {};
    }),
  );
}

export async function openOrm(url: string, entities: EntitySchema<any, any>[], opts: { poolMax?: number } = {}) {
  return MikroORM.init(ormConfig(url, entities, opts));
}

/** Applies pending migrations; returns their names, for the caller's log. */
export async function migrate(orm: MikroORM): Promise<string[]> {
  return (await orm.migrator.up()).map((m) => m.name);
}

export type { MikroORM };
