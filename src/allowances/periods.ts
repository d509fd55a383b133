/**
 * Allowance periods as calendar dates. A period is named by the date it starts ('2026-03-01'),
 * the same name for every learner; when it begins for one learner is midnight of that date in
 * the learner's own time zone, so a learner in Jakarta crosses into March seven hours before a
 * learner in London. All arithmetic here is on dates, never on instants, until `midnightIn`.
 */

export const PERIOD_KINDS = ['weekly', 'monthly'] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

/** 'YYYY-MM-DD' */
export type LocalDate = string;

/** [start, end): `end` is the first day of the next period. */
export interface Period {
  start: LocalDate;
  end: LocalDate;
}

/** One stretch of a scheme's history: from `start`, periods of `kind` counted from `start`. */
export interface Segment {
  start: LocalDate;
  kind: PeriodKind;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isLocalDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return toLocalDate(d) === value;
}

function parts(date: LocalDate): [number, number, number] {
  const m = DATE.exec(date);
  if (!m) throw new Error(`Not a date: ${date}`);
  return [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
}

function toLocalDate(d: Date): LocalDate {
  return d.toISOString().slice(0, 10);
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const [y, m, d] = parts(date);
  return toLocalDate(new Date(Date.UTC(y, m, d + days)));
}

/** Months after `anchor`, keeping its day of the month where the month has it (31 Jan → 28 Feb → 31 Mar). */
export function addMonths(anchor: LocalDate, months: number): LocalDate {
  const [y, m, d] = parts(anchor);
  const lastDay = new Date(Date.UTC(y, m + months + 1, 0)).getUTCDate();
  return toLocalDate(new Date(Date.UTC(y, m + months, Math.min(d, lastDay))));
}

function daysBetween(from: LocalDate, to: LocalDate): number {
  const [a, b, c] = parts(from);
  const [x, y, z] = parts(to);
  return Math.round((Date.UTC(x, y, z) - Date.UTC(a, b, c)) / 86_400_000);
}

/** The n-th period start of a segment (n may be negative: periods before it began). */
function nthStart(segment: Segment, n: number): LocalDate {
  return segment.kind === 'weekly' ? addDays(segment.start, 7 * n) : addMonths(segment.start, n);
}

/** Which period of a segment (counted from 0) holds `date`, ignoring where the segment ends. */
function indexOf(segment: Segment, date: LocalDate): number {
  if (segment.kind === 'weekly') return Math.floor(daysBetween(segment.start, date) / 7);
  const [sy, sm] = parts(segment.start);
  const [y, m] = parts(date);
  let n = (y - sy) * 12 + (m - sm);
  while (nthStart(segment, n) > date) n--;
  while (nthStart(segment, n + 1) <= date) n++;
  return n;
}

/**
 * The period holding `date`, or null before the first segment. A later segment cuts the one
 * before it short: the period it interrupts ends where the new one starts.
 */
export function periodContaining(segments: Segment[], date: LocalDate): Period | null {
  const i = segmentIndexAt(segments, date);
  if (i < 0) return null;
  const segment = segments[i]!;
  const n = indexOf(segment, date);
  const next = segments[i + 1]?.start;
  const end = nthStart(segment, n + 1);
  return { start: nthStart(segment, n), end: next && next < end ? next : end };
}

function segmentIndexAt(segments: Segment[], date: LocalDate): number {
  let found = -1;
  segments.forEach((s, i) => {
    if (s.start <= date) found = i;
  });
  return found;
}

/** The period before `period`; before a scheme's first period, the same length of time before it. */
export function previousPeriod(segments: Segment[], period: Period): Period {
  const before = periodContaining(segments, addDays(period.start, -1));
  if (before) return before;
  const first = segments[0]!;
  return { start: nthStart(first, -1), end: period.start };
}

export function nextPeriod(segments: Segment[], period: Period): Period {
  return periodContaining(segments, period.end)!;
}

/** True when `date` is the first day of one of the scheme's periods. */
export function isPeriodStart(segments: Segment[], date: LocalDate): boolean {
  return periodContaining(segments, date)?.start === date;
}

/** Today's date where the person is. */
export function todayIn(timeZone: string, now = new Date()): LocalDate {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** Milliseconds the zone is ahead of UTC at `instant`. */
function offsetAt(timeZone: string, instant: number): number {
  const fields = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(fields.find((f) => f.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a date begins in a time zone. Where a clock change skips midnight, the day begins
 * at the first moment that exists; where midnight happens twice, at the first of them.
 */
export function midnightIn(date: LocalDate, timeZone: string): Date {
  const [y, m, d] = parts(date);
  const wall = Date.UTC(y, m, d);
  // A day either side, the zone's offset is the one before and after any change near midnight.
  const candidates = [wall - offsetAt(timeZone, wall - 86_400_000), wall - offsetAt(timeZone, wall + 86_400_000)].sort((a, b) => a - b);
  const first = candidates.find((c) => todayIn(timeZone, new Date(c)) === date) ?? candidates[0]!;
  return new Date(first);
}

/** The instants a period covers for one learner. */
export function windowIn(period: Period, timeZone: string): { from: Date; to: Date } {
  return { from: midnightIn(period.start, timeZone), to: midnightIn(period.end, timeZone) };
}

/** Calendar months as periods, for monthly usage figures. */
export function monthOf(date: LocalDate): Period {
  const start = `${date.slice(0, 7)}-01`;
  return { start, end: addMonths(start, 1) };
}
