/**
 * Report values as people read them, in the viewer's language: on the page (numbers formatted,
 * groups named, charts laid out) and in exports (plain numbers, small cells suppressed).
 */
import { drawChart, type ChartModel } from './charts.ts';
import type { Breakdown } from './reports.schemas.ts';
import type { ChartSpec, Column, ReportData, ReportTable, Row, Value } from './report-table.ts';

export type T = (key: string, vars?: Record<string, unknown>) => string;

export interface Reader {
  t: T;
  language: string;
  timeZone: string;
  by: Breakdown;
  rtl: boolean;
}

export function groupName(key: string, r: Pick<Reader, 't' | 'language' | 'by'>): string {
  if (key === 'all') return r.t('reports:group.all');
  if (key === 'not_stated') return r.t('reports:group.notStated');
  if (r.by === 'nationality') {
    try {
      return new Intl.DisplayNames([r.language], { type: 'region' }).of(key) ?? key;
    } catch {
      return key;
    }
  }
  return r.t(`reports:group.${r.by}.${key}`);
}

const num = (language: string, digits: number) => new Intl.NumberFormat(language, { maximumFractionDigits: digits, minimumFractionDigits: 0 });

/** A value as the page shows it. */
export function display(kind: Column['kind'], v: Value, r: Reader): string {
  if (v === null || v === undefined) return '–';
  switch (kind) {
    case 'group':
      return groupName(String(v), r);
    case 'text':
      return String(v);
    case 'count':
    case 'amount':
      return num(r.language, 0).format(Number(v));
    case 'percent':
      return new Intl.NumberFormat(r.language, { style: 'percent', maximumFractionDigits: 0 }).format(Number(v) / 100);
    case 'hours':
      return r.t('reports:unit.hours', { value: num(r.language, 1).format(Number(v)) });
    case 'seconds':
      return r.t('reports:unit.hours', { value: num(r.language, 1).format(Number(v) / 3600) });
    case 'score':
      return num(r.language, 0).format(Number(v));
    case 'date':
      return new Intl.DateTimeFormat(r.language, { dateStyle: 'medium', timeZone: r.timeZone }).format(new Date(v as Date));
    case 'month':
      return new Intl.DateTimeFormat(r.language, { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${String(v)}T00:00:00Z`));
    case 'week':
      return new Intl.DateTimeFormat(r.language, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(`${String(v)}T00:00:00Z`));
    case 'yesNo':
      return r.t(v ? 'reports:yes' : 'reports:no');
  }
}

/** A value as an export writes it: plain digits (one decimal at most), days as YYYY-MM-DD. */
export function plain(kind: Column['kind'], v: Value, r: Pick<Reader, 't' | 'language' | 'by'>): string {
  if (v === null || v === undefined) return '';
  switch (kind) {
    case 'group':
      return groupName(String(v), r);
    case 'percent':
    case 'hours':
    case 'score':
      return String(Math.round(Number(v) * 10) / 10);
    case 'seconds':
      return String(Math.round((Number(v) / 3600) * 10) / 10);
    case 'date':
      return (v instanceof Date ? v : new Date(String(v))).toISOString().slice(0, 10);
    case 'month':
      return String(v).slice(0, 7);
    case 'yesNo':
      return r.t(v ? 'reports:yes' : 'reports:no');
    default:
      return String(v);
  }
}

export interface Suppressed {
  /** What a suppressed count is written as, e.g. "<5". */
  count: string;
  /** What a suppressed figure about a small group is written as. */
  figure: string;
}

/**
 * Small-cell suppression: a count of 1 to threshold−1 people is replaced, and when the row itself
 * is about so few people (its base column), every figure of it goes too, since an average of two
 * learners tells who they are — even a zero, which says what its one member did not do. Elsewhere
 * zero stays: it names nobody.
 */
export function suppressRow(table: Pick<ReportTable, 'columns' | 'base'>, row: Row, threshold: number, marks: Suppressed): Record<string, Value | { suppressed: string }> {
  const small = (v: Value) => typeof v === 'number' && v > 0 && v < threshold;
  const baseSmall = small(row[table.base] ?? null);
  const out: Record<string, Value | { suppressed: string }> = {};
  for (const c of table.columns) {
    const v = row[c.key] ?? null;
    if (c.kind === 'count' && small(v)) out[c.key] = { suppressed: marks.count };
    else if (baseSmall && ['count', 'percent', 'hours', 'score', 'seconds', 'amount'].includes(c.kind)) out[c.key] = { suppressed: c.kind === 'count' ? marks.count : marks.figure };
    else out[c.key] = v;
  }
  return out;
}

export interface TableModel {
  id: string;
  title: string;
  headings: string[];
  rows: { cells: string[] }[];
  total: { cells: string[] } | null;
  csvUrl: string;
}

export function tableModel(table: ReportTable, r: Reader, csvUrl: string, suppression?: { threshold: number; marks: Suppressed }): TableModel {
  const cells = (row: Row) => {
    const values = suppression ? suppressRow(table, row, suppression.threshold, suppression.marks) : row;
    return table.columns.map((c) => {
      const v = values[c.key] ?? null;
      if (v !== null && typeof v === 'object' && 'suppressed' in v) return v.suppressed;
      if (c.kind === 'group' && row.group === null) return r.t('reports:group.total');
      return display(c.kind, v as Value, r);
    });
  };
  return {
    id: table.id,
    title: r.t(table.title),
    headings: table.columns.map((c) => r.t(c.label)),
    rows: table.rows.map((row) => ({ cells: cells(row) })),
    total: table.total ? { cells: cells(table.total) } : null,
    csvUrl,
  };
}

/** A chart with its own data table: what it plots, as rows a screen reader can walk. */
export function chartModel(spec: ChartSpec, data: ReportData, r: Reader, index: number): { chart: ChartModel; table: { headings: string[]; rows: { cells: string[] }[] } } | null {
  const table = data.tables.find((tb) => tb.id === spec.table);
  if (!table) return null;
  const labelColumn = table.columns.find((c) => c.key === spec.label)!;
  const seriesColumns = spec.series.map((k) => table.columns.find((c) => c.key === k)!);
  const rows = table.rows.length ? table.rows : table.total ? [table.total] : [];
  const label = (row: Row) => (row[spec.label] === null && labelColumn.kind === 'group' ? r.t('reports:group.total') : display(labelColumn.kind, row[spec.label] ?? null, r));
  const kind = seriesColumns[0]!.kind;
  const chart = drawChart({
    kind: spec.kind,
    id: `chart-${index}`,
    title: r.t(spec.title),
    labels: rows.map(label),
    series: seriesColumns.map((c) => ({ name: r.t(c.label), values: rows.map((row) => (row[c.key] === null || row[c.key] === undefined ? null : Number(row[c.key]))) })),
    format: (v) => display(kind, v, r),
    max: spec.max,
    rtl: r.rtl,
  });
  return {
    chart,
    table: {
      headings: [r.t(labelColumn.label), ...seriesColumns.map((c) => r.t(c.label))],
      rows: rows.map((row) => ({ cells: [label(row), ...seriesColumns.map((c) => display(c.kind, row[c.key] ?? null, r))] })),
    },
  };
}
