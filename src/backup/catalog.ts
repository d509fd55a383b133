/**
 * What the database holds, read from PostgreSQL's own catalog rather than from the entities: a
 * table added by any slice's migration is backed up and restored without anyone listing it here.
 */
import pg from 'pg';

/** Library-owned tables whose rows are worth nothing after a restore (see README, "Backups"). */
export const DISPOSABLE_TABLES = ['session', 'rate_limits'];
/** Recorded in the manifest as a list of names; the restore rebuilds it by running the migrations. */
export const MIGRATIONS_TABLE = 'mikro_orm_migrations';

export interface TableInfo {
  name: string;
  /** Columns a COPY may write, in table order (generated columns are computed again on restore). */
  columns: string[];
  primaryKey: string[];
  /** Tables this one points at with a foreign key (itself excluded). */
  references: string[];
}

export interface OwnedSequence {
  table: string;
  column: string;
}

type Queryable = Pick<pg.ClientBase, 'query'>;

export const quote = (name: string) => pg.escapeIdentifier(name);

/** Every table of the public schema that holds school data, by name. */
export async function schoolTables(db: Queryable): Promise<TableInfo[]> {
  const { rows: tables } = await db.query<{ oid: number; name: string }>(
    `SELECT c.oid::int AS oid, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND c.relname <> ALL($1::text[])
      ORDER BY c.relname`,
    [[...DISPOSABLE_TABLES, MIGRATIONS_TABLE]],
  );
  const oids = tables.map((t) => t.oid);
  const { rows: columns } = await db.query<{ oid: number; name: string }>(
    `SELECT attrelid::int AS oid, attname AS name FROM pg_attribute
      WHERE attrelid = ANY($1::oid[]) AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
      ORDER BY attrelid, attnum`,
    [oids],
  );
  const { rows: keys } = await db.query<{ oid: number; name: string }>(
    `SELECT i.indrelid::int AS oid, a.attname AS name
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indisprimary AND i.indrelid = ANY($1::oid[])
      ORDER BY i.indrelid, k.ord`,
    [oids],
  );
  const { rows: links } = await db.query<{ child: number; parent: number }>(
    `SELECT DISTINCT conrelid::int AS child, confrelid::int AS parent FROM pg_constraint
      WHERE contype = 'f' AND conrelid = ANY($1::oid[]) AND conrelid <> confrelid`,
    [oids],
  );
  const nameOf = new Map(tables.map((t) => [t.oid, t.name]));
  return tables.map((t) => ({
    name: t.name,
    columns: columns.filter((c) => c.oid === t.oid).map((c) => c.name),
    primaryKey: keys.filter((k) => k.oid === t.oid).map((k) => k.name),
    references: links.filter((l) => l.child === t.oid && nameOf.has(l.parent)).map((l) => nameOf.get(l.parent)!),
  }));
}

/** Sequences that number a column (serial and identity columns). */
export async function ownedSequences(db: Queryable): Promise<OwnedSequence[]> {
  const { rows } = await db.query<OwnedSequence>(
    `SELECT t.relname AS table, a.attname AS column
       FROM pg_depend d
       JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
       JOIN pg_class t ON t.oid = d.refobjid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
      WHERE d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND n.nspname = 'public'
      ORDER BY t.relname, a.attname`,
  );
  return rows;
}

/** Sequences no column owns (a slice's own counter): their position is kept as it was. */
export async function freeSequences(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT s.relname AS name FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
      WHERE s.relkind = 'S' AND n.nspname = 'public'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
      ORDER BY s.relname`,
  );
  return rows.map((r) => r.name);
}

/**
 * Tables in an order in which every row's foreign keys point at rows already there: parents
 * first. A table pointing at itself is fine, because its rows are copied in primary-key order and
 * a row can only point at one made before it. A cycle between tables cannot be loaded this way
 * while the constraints check every row, so it is refused with the tables named.
 */
export function loadOrder(tables: TableInfo[]): TableInfo[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const order: TableInfo[] = [];
  const visit = (t: TableInfo, path: string[]) => {
    if (done.has(t.name)) return;
    if (visiting.has(t.name)) throw new Error(`Tables refer to each other in a cycle (${[...path, t.name].join(' → ')}); they cannot be restored in order.`);
    visiting.add(t.name);
    for (const parent of t.references) {
      const p = byName.get(parent);
      if (p) visit(p, [...path, t.name]);
    }
    visiting.delete(t.name);
    done.add(t.name);
    order.push(t);
  };
  for (const t of tables) visit(t, []);
  return order;
}
