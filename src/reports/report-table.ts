/**
 * The shape every report answers in: tables of plain values. The page draws charts from them and
 * shows them as they are; the CSV export writes the same rows with small cells suppressed.
 */

/**
 * - group: a breakdown group's key (translated when shown); text: shown as it is
 * - count: a number of learners (or learner–item pairs): suppressed when small
 * - percent, hours, score, seconds, amount: figures about the people a row counts, suppressed with them
 * - date, month, week: days as YYYY-MM-DD or instants
 */
export type ColumnKind = 'group' | 'text' | 'count' | 'percent' | 'hours' | 'score' | 'seconds' | 'amount' | 'date' | 'month' | 'week' | 'yesNo';

export interface Column {
  key: string;
  /** Translation key of the heading. */
  label: string;
  kind: ColumnKind;
}

export type Value = string | number | boolean | Date | null;
export type Row = Record<string, Value>;

export interface ReportTable {
  /** Names the table in its CSV link and file name. */
  id: string;
  /** Translation key of the table's heading. */
  title: string;
  columns: Column[];
  rows: Row[];
  /** Everyone, when the table is a breakdown. */
  total?: Row;
  /**
   * The count column that says how many people a row is about: when it is small, every figure of
   * the row is suppressed in exports, not only the counts.
   */
  base: string;
}

export type ChartKind = 'bar' | 'stacked' | 'line';

/** A chart drawn from a table: one label column and the value columns it plots. */
export interface ChartSpec {
  kind: ChartKind;
  table: string;
  label: string;
  series: string[];
  /** Translation key of the chart's title. */
  title: string;
  /** Fixed top of the scale (100 for percentages); otherwise the largest value. */
  max?: number;
}

export interface Figure {
  /** Translation key of what it counts. */
  label: string;
  value: number | null;
  kind: ColumnKind;
}

export interface ReportData {
  figures: Figure[];
  tables: ReportTable[];
  charts: ChartSpec[];
  /** Translation keys with variables of sentences saying how the figures were counted. */
  notes: { key: string; vars?: Record<string, unknown> }[];
}

/** Share in percent, or null when there is nothing to share. */
export function percent(part: number, whole: number): number | null {
  return whole > 0 ? (100 * part) / whole : null;
}

/** Rows of a breakdown in a fixed order (known groups first, then the rest by key), with the total apart. */
export function splitTotal<R extends { group: string | null }>(rows: R[], order: readonly string[]): { groups: R[]; total: R | undefined } {
  const groups = rows.filter((r) => r.group !== null);
  const rank = (g: string) => {
    const i = order.indexOf(g);
    if (g === 'not_stated') return Number.MAX_SAFE_INTEGER;
    return i === -1 ? order.length : i;
  };
  groups.sort((a, b) => rank(a.group!) - rank(b.group!) || a.group!.localeCompare(b.group!));
  return { groups, total: rows.find((r) => r.group === null) };
}
