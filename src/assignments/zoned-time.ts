/**
 * Dates a teacher types are wall-clock times in their own time zone (`<input type=datetime-local>`
 * sends "2026-03-01T18:00"); the database keeps instants in UTC. These convert both ways with the
 * platform's time-zone data, daylight-saving changes included.
 */

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/** Offset of a zone from UTC at an instant, in milliseconds (Athens in summer: +3 h). */
function offsetAt(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a wall-clock time names in a zone, or undefined when the text is not such a time.
 * A time skipped by a daylight-saving jump lands just after the jump; a repeated one takes the
 * earlier instant.
 */
export function zonedToUtc(local: string, timeZone: string): Date | undefined {
  const m = LOCAL.exec(local);
  if (!m) return undefined;
  const [, y, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59) return undefined;
  // Two passes settle the offset: the first guess uses the offset at the wall time read as UTC.
  let guess = wall - offsetAt(wall, timeZone);
  guess = wall - offsetAt(guess, timeZone);
  const earlier = wall - offsetAt(guess - 3600_000, timeZone);
  if (earlier < guess && utcToZonedInput(new Date(earlier), timeZone) === local) guess = earlier;
  return new Date(guess);
}

/** An instant as the value of a datetime-local input in a zone: "2026-03-01T18:00". */
export function utcToZonedInput(instant: Date, timeZone: string): string {
  const shifted = new Date(instant.getTime() + offsetAt(instant.getTime(), timeZone));
  return shifted.toISOString().slice(0, 16);
}
