/**
 * Named prepared statements for the few statements every signed-in page runs (the session, the
 * signed-in user, a lesson). MikroORM's execute() writes the values into the SQL text and sends it
 * with the simple protocol, so PostgreSQL parses and plans it anew every time; for these small
 * statements planning costs more than running them (the lesson page's read: 0.84 ms of PostgreSQL
 * CPU as text, 0.34 ms prepared). A named statement is parsed and planned once per pooled
 * connection; after that it is only bound and run.
 *
 * Behind a connection pooler in transaction mode (PgBouncer), named statements need its
 * max_prepared_statements setting.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';

export interface Statement {
  readonly name: string;
  /** SQL with $1, $2 … placeholders. */
  readonly text: string;
}

const names = new Map<string, string>();

/** A statement is named by its text: the same text is the same statement on every connection. */
export function statement(text: string): Statement {
  let name = names.get(text);
  if (!name) {
    name = `dars_${names.size + 1}`;
    names.set(text, name);
  }
  return { name, text };
}

/**
 * Runs a prepared statement on the ORM's own connection pool. Inside a transaction of the
 * EntityManager it must run on that transaction's connection instead: there it goes through the
 * ORM as text, like em.execute().
 */
export async function runPrepared<T>(em: EntityManager, st: Statement, values: readonly unknown[]): Promise<T[]> {
  if (em.isInTransaction()) {
    const order: unknown[] = [];
    const sql = st.text.replace(/\$(\d+)/g, (_, n: string) => {
      order.push(values[Number(n) - 1]);
      return '?';
    });
    return (await em.execute(sql, order)) as T[];
  }
  const pool = (await em.getConnection().getNativeClient()) as pg.Pool;
  return (await pool.query<T & pg.QueryResultRow>({ name: st.name, text: st.text, values: values as unknown[] })).rows;
}

/**
 * The pool as the session store sees it: every statement it sends (the same four all day) runs
 * as a named prepared statement.
 *
 * express-session takes a store error with the code ENOENT to mean "no such session" (as a file
 * store would say) and carries on signed out. Over a unix socket, a PostgreSQL that is down fails
 * with ENOENT too (the socket file is gone): that must stay an error, so it is passed on as one.
 */
export function preparingPool(pool: pg.Pool): pg.Pool {
  const query = async (text: string, values?: unknown[]) => {
    const st = statement(text);
    try {
      return await pool.query({ name: st.name, text: st.text, values });
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
      throw Object.assign(new Error(`the database cannot be reached: ${(err as Error).message}`, { cause: err }), { code: 'ECONNREFUSED' });
    }
  };
  return { query } as unknown as pg.Pool;
}
