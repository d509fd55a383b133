/** Amounts and periods as a reader of a given language writes them. */
import type { AllowanceUnit } from './allowance.entity.ts';
import { currencyDigits } from './handoff.ts';
import { type Period, addDays } from './periods.ts';

/** "500 MB", "Rp 25.000", "5,00 €" */
export function amountText(amount: number, unit: AllowanceUnit, currency: string | null, language: string): string {
  if (unit === 'megabytes') return new Intl.NumberFormat(language, { style: 'unit', unit: 'megabyte', unitDisplay: 'short' }).format(amount);
  const digits = currencyDigits(currency!);
  return new Intl.NumberFormat(language, { style: 'currency', currency: currency! }).format(amount / 10 ** digits);
}

/** "1–31 Mar 2026": a period names calendar days, the same for every time zone. */
export function periodText(period: Period, language: string): string {
  const format = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeZone: 'UTC' });
  return format.formatRange(new Date(`${period.start}T00:00:00Z`), new Date(`${addDays(period.end, -1)}T00:00:00Z`));
}

export function dayText(date: string, language: string): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${date}T00:00:00Z`));
}

/** "March 2026" */
export function monthText(start: string, language: string): string {
  return new Intl.DateTimeFormat(language, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${start}T00:00:00Z`));
}
