/**
 * A tiny tagged template for report SQL: `sql\`... ${value} ...\`` turns each value into a `?`
 * parameter, and a nested `sql` fragment into its text and parameters. Report queries are built
 * from pieces (scope, range, breakdown) without ever pasting a value into the text.
 */
import type { EntityManager } from '@mikro-orm/postgresql';

export interface Sql {
  readonly text: string;
  readonly params: readonly unknown[];
}

const isSql = (v: unknown): v is Sql => typeof v === 'object' && v !== null && 'text' in v && 'params' in v;

export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  let text = strings[0]!;
  const params: unknown[] = [];
  values.forEach((v, i) => {
    if (isSql(v)) {
      text += v.text;
      params.push(...v.params);
    } else {
      text += '?';
      params.push(v);
    }
    text += strings[i + 1]!;
  });
  return { text, params };
}

/** Pieces joined by a separator (`AND`, `,`). */
export function join(parts: readonly Sql[], separator: string): Sql {
  return { text: parts.map((p) => p.text).join(separator), params: parts.flatMap((p) => p.params) };
}

/** Text chosen by the code itself (a column, a fixed expression), never by a request. */
export function raw(text: string): Sql {
  return { text, params: [] };
}

/**
 * Settings for one report statement, in its own read-only transaction:
 * - work_mem: grouping half a million learner–quiz or learner–course pairs needs ~50 MB; at the
 *   default 4 MB the hash tables spill to disk in twenty batches;
 * - no parallel workers: each worker works out the viewer's learner list again, and on a small
 *   machine already busy answering other pages they only queue for the same cores;
 * - no JIT: compiling a report statement costs more than the few hundred milliseconds it runs.
 */
const REPORT_SETTINGS = `SELECT set_config('work_mem', '64MB', true), set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true)`;

export async function rows<R>(em: EntityManager, q: Sql): Promise<R[]> {
  return em.transactional(
    async (tx) => {
      await tx.execute(REPORT_SETTINGS);
      return (await tx.execute(q.text, [...q.params])) as R[];
    },
    { readOnly: true },
  );
}
