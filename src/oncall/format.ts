/** Times and durations as a person reads them, in their language and time zone. */

type DurationFormatter = { format(d: { days?: number; hours?: number; minutes?: number }): string };
type DurationFormatConstructor = new (locale: string, opts: { style: 'short' | 'narrow' | 'long' }) => DurationFormatter;
// Intl.DurationFormat is in Node 24 but not yet in TypeScript's es2024 library.
const DurationFormat = (Intl as unknown as { DurationFormat: DurationFormatConstructor }).DurationFormat;

/** 8130 s → "2 hr, 15 min" (to the minute; under a minute reads "0 min"). Days appear after 48 hours. */
export function durationText(seconds: number, language: string): string {
  let minutes = Math.round(seconds / 60);
  const days = minutes >= 48 * 60 ? Math.floor(minutes / 1440) : 0;
  minutes -= days * 1440;
  const hours = Math.floor(minutes / 60);
  minutes -= hours * 60;
  const parts: { days?: number; hours?: number; minutes?: number } = {};
  if (days) parts.days = days;
  if (hours) parts.hours = hours;
  if (minutes || (!days && !hours)) parts.minutes = minutes;
  return new DurationFormat(language, { style: 'short' }).format(parts);
}

/** Monday first, as ISO weekdays 1–7 count. */
export function weekdayNames(language: string): string[] {
  const f = new Intl.DateTimeFormat(language, { weekday: 'long', timeZone: 'UTC' });
  // 2024-01-01 was a Monday.
  return Array.from({ length: 7 }, (_, i) => f.format(new Date(Date.UTC(2024, 0, 1 + i))));
}

/** Minutes since midnight as a wall-clock time: 1110 → "18:30" / "6:30 PM"; 1440 → midnight. */
export function clockText(minutes: number, language: string): string {
  return new Intl.DateTimeFormat(language, { hour: 'numeric', minute: '2-digit', timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1, 0, minutes)));
}
