/**
 * CSV exports, written to the response as rows are produced: a table of 100,000 learners goes out
 * page by page (queries/hours.ts reads them by keyset), so the process never holds the whole file.
 * Small cells are suppressed in everything exported (see present.ts suppressRow).
 */
import { once } from 'node:events';
import type { Response } from 'express';
import { plain, suppressRow, type Reader, type Suppressed } from './present.ts';
import type { ReportFilters } from './reports.schemas.ts';
import type { Column, ReportTable, Row, Value } from './report-table.ts';

/** A cell that a spreadsheet would run as a formula is written as text. */
function cell(s: string, text: boolean): string {
  const safe = text && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The file name carries the filters, so a downloaded file says what it counts. */
export function csvFileName(report: string, table: string, f: ReportFilters): string {
  const parts = ['dars', report, table];
  if (f.programmeId) parts.push(`programme-${f.programmeId}`);
  if (f.siteId) parts.push(`site-${f.siteId}`);
  if (f.cohortId) parts.push(`cohort-${f.cohortId}`);
  if (f.courseId) parts.push(`course-${f.courseId}`);
  parts.push(f.from, f.to);
  if (f.by !== 'none') parts.push(`by-${f.by}`);
  return `${parts.join('_')}.csv`;
}

export class CsvWriter {
  readonly #res: Response;
  #closed = false;

  constructor(res: Response, fileName: string) {
    this.#res = res;
    res.on('close', () => {
      this.#closed = true;
    });
    res.status(200);
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="${fileName}"`);
    // A byte-order mark, so spreadsheets read Arabic, Farsi and Greek names as UTF-8.
    res.write('\uFEFF');
  }

  /** False once the reader went away: stop producing rows. */
  get open(): boolean {
    return !this.#closed;
  }

  /** Writes one line, waiting while the client is slower than the database. */
  async line(values: string[], textColumns: boolean[]): Promise<void> {
    if (this.#closed) return;
    const ok = this.#res.write(`${values.map((v, i) => cell(v, textColumns[i] ?? false)).join(',')}\r\n`);
    if (!ok && !this.#closed) await Promise.race([once(this.#res, 'drain'), once(this.#res, 'close')]);
  }

  end(): void {
    if (!this.#closed) this.#res.end();
  }
}

const isText = (c: Column) => c.kind === 'text' || c.kind === 'group';

function exportCells(columns: Column[], values: Record<string, Value | { suppressed: string }>, row: Row, r: Reader): string[] {
  return columns.map((c) => {
    const v = values[c.key] ?? null;
    if (v !== null && typeof v === 'object' && 'suppressed' in v) return v.suppressed;
    if (c.kind === 'group' && row.group === null) return r.t('reports:group.total');
    return plain(c.kind, v as Value, r);
  });
}

export async function writeTable(out: CsvWriter, table: ReportTable, r: Reader, threshold: number, marks: Suppressed): Promise<void> {
  const text = table.columns.map(isText);
  await out.line(table.columns.map((c) => r.t(c.label)), table.columns.map(() => true));
  for (const row of [...table.rows, ...(table.total ? [table.total] : [])]) {
    if (!out.open) break;
    await out.line(exportCells(table.columns, suppressRow(table, row, threshold, marks), row, r), text);
  }
  out.end();
}

/** A table of one row per learner, read page by page. Its cells are one person's own figures, not counts of people, so nothing is suppressed. */
export async function writeLearnerRows<P>(out: CsvWriter, columns: Column[], pages: AsyncIterable<P[]>, toRow: (p: P) => Row, r: Reader): Promise<void> {
  const text = columns.map(isText);
  await out.line(columns.map((c) => r.t(c.label)), columns.map(() => true));
  for await (const page of pages) {
    for (const p of page) {
      const row = toRow(p);
      await out.line(columns.map((c) => plain(c.kind, row[c.key] ?? null, r)), text);
    }
    if (!out.open) break;
  }
  out.end();
}
