import { z } from 'zod';
import { field } from '../platform/forms.ts';

/** What a report may be broken down by; `none` gives one row for everyone. */
export const BREAKDOWNS = ['none', 'sex', 'age', 'nationality', 'legal_status', 'disability'] as const;
export type Breakdown = (typeof BREAKDOWNS)[number];

const day = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  z.iso.date('reports:errors.date').optional(),
);

/** The filters of every report page, read from the query string (a plain GET form). */
export const filtersSchema = z
  .object({
    programme: field.optionalInt(1, 2_147_483_647),
    site: field.optionalInt(1, 2_147_483_647),
    cohort: field.optionalInt(1, 2_147_483_647),
    course: field.optionalInt(1, 2_147_483_647),
    from: day,
    to: day,
    by: field.optionalEnum(BREAKDOWNS),
  })
  .refine((f) => !f.from || !f.to || f.from <= f.to, { message: 'reports:errors.order', path: ['to'] })
  .refine((f) => !f.from || !f.to || Date.parse(f.to) - Date.parse(f.from) <= MAX_RANGE_DAYS * 86_400_000, { message: 'reports:errors.tooLong', path: ['to'] });
export type FiltersInput = z.output<typeof filtersSchema>;

/** Two years: longer ranges are not what these reports are for, and they cost the database. */
export const MAX_RANGE_DAYS = 731;

/** Filters once checked against what the viewer may see, with the range settled. */
export interface ReportFilters {
  programmeId?: number;
  siteId?: number;
  cohortId?: number;
  courseId?: number;
  /** Inclusive calendar days (YYYY-MM-DD), read in `timeZone`. */
  from: string;
  to: string;
  by: Breakdown;
  timeZone: string;
  /**
   * The cohorts in scope once looked up (settleScope): report statements then name them, so
   * PostgreSQL knows how many learners to expect instead of guessing a few thousand.
   */
  cohortIds?: readonly number[];
  /** The programmes of those cohorts, looked up with them. */
  programmeIds?: readonly number[];
}
