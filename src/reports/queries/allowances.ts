/** Allowances issued against budget and the data learners used. Read-only; see scope.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReportViewer } from '../reports.policy.ts';
import type { ReportFilters } from '../reports.schemas.ts';
import { wholeMonths } from './hours.ts';
import { learnerGroup, population, scopeProgrammes, type Range } from './scope.ts';
import { raw, rows, sql, type Sql } from './sql.ts';

/**
 * Bytes each learner used per month of the range, as (learner_id, month, bytes) rows: the calendar
 * months wholly inside the range from the monthly rollup (rollups.ts), the days before and after
 * them from data use itself. A month is read whole only when the range covers its last day: a
 * learner's day may run ahead of the viewer's, so "up to today" is not the whole month.
 */
function dataUsed(range: Range, learners: Sql): Sql {
  const months = wholeMonths(range, '9999-12-31');
  const days = months
    ? sql`((d.day >= ${range.from}::date AND d.day < ${months.from}::date) OR (d.day >= ${months.to}::date AND d.day <= ${range.to}::date))`
    : sql`(d.day >= ${range.from}::date AND d.day <= ${range.to}::date)`;
  const fromRollup = months
    ? sql`SELECT m.learner_id, m.month, m.bytes FROM report_data_months m
           WHERE m.month >= ${months.from}::date AND m.month < ${months.to}::date AND m.learner_id IN (${learners})
          UNION ALL `
    : raw('');
  return sql`${fromRollup}SELECT d.learner_id, date_trunc('month', d.day)::date, d.bytes FROM data_usage d WHERE ${days} AND d.learner_id IN (${learners})`;
}

export interface AllowanceMonth {
  /** First day of the month (YYYY-MM-01). */
  month: string;
  unit: 'megabytes' | 'airtime';
  currency: string | null;
  /** Learners with an allowance (not cancelled) for a period starting this month. */
  learners: number;
  issued: number;
  /** The budgets of the periods issued this month, under the scheme version each batch used. */
  budget: number;
  /** Megabytes (10^6 bytes) Dars sent to these learners this month; megabyte rows only. */
  usedMegabytes: number | null;
}

/**
 * Months are written as text only once per month. Learners are counted per month by grouping the
 * issues per learner first: counting distinct learners sorted a quarter of a million issues.
 */
export async function allowancesByMonth(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<AllowanceMonth[]> {
  const issued = await rows<{ month: string; unit: 'megabytes' | 'airtime'; currency: string | null; learners: number; issued: string }>(
    em,
    sql`SELECT to_char(m, 'YYYY-MM-DD') AS month, unit, currency, count(*)::int AS learners, sum(amount) AS issued FROM (
          SELECT date_trunc('month', i.period_start) AS m, i.unit, i.currency, i.learner_id, sum(i.amount) AS amount
            FROM allowance_issues i JOIN allowance_schemes s ON s.id = i.scheme_id
           WHERE s.programme_id IN (${scopeProgrammes(viewer, f)}) AND i.status <> 'cancelled'
             AND i.period_start >= ${range.from}::date AND i.period_start <= ${range.to}::date
             AND i.learner_id IN (${population(viewer, f, range)})
           GROUP BY 1, 2, 3, 4
        ) t GROUP BY m, unit, currency`,
  );
  const budgets = await rows<{ month: string; unit: 'megabytes' | 'airtime'; currency: string | null; budget: string }>(
    em,
    sql`WITH periods AS (
          SELECT DISTINCT ON (b.scheme_id, b.period_start) b.period_start, v.unit, v.currency, v.budget
            FROM allowance_batches b JOIN allowance_scheme_versions v ON v.id = b.version_id JOIN allowance_schemes s ON s.id = b.scheme_id
           WHERE s.programme_id IN (${scopeProgrammes(viewer, f)}) AND b.period_start >= ${range.from}::date AND b.period_start <= ${range.to}::date
           ORDER BY b.scheme_id, b.period_start, b.id DESC
        )
        SELECT to_char(date_trunc('month', period_start), 'YYYY-MM-DD') AS month, unit, currency, sum(budget) AS budget FROM periods GROUP BY 1, 2, 3`,
  );
  const used = await rows<{ month: string; bytes: string }>(
    em,
    sql`WITH pop AS MATERIALIZED (${population(viewer, f, range)})
        SELECT to_char(month, 'YYYY-MM-DD') AS month, sum(bytes) AS bytes FROM (${dataUsed(range, raw('SELECT learner_id FROM pop'))}) u (learner_id, month, bytes) GROUP BY month`,
  );
  const out = new Map<string, AllowanceMonth>();
  const row = (month: string, unit: 'megabytes' | 'airtime', currency: string | null) => {
    const key = `${month}|${unit}|${currency ?? ''}`;
    let r = out.get(key);
    if (!r) {
      r = { month, unit, currency, learners: 0, issued: 0, budget: 0, usedMegabytes: unit === 'megabytes' ? 0 : null };
      out.set(key, r);
    }
    return r;
  };
  for (const i of issued) Object.assign(row(i.month, i.unit, i.currency), { learners: i.learners, issued: Number(i.issued) });
  for (const b of budgets) row(b.month, b.unit, b.currency).budget = Number(b.budget);
  for (const u of used) row(u.month, 'megabytes', null).usedMegabytes = Math.round(Number(u.bytes) / 1_000_000);
  return [...out.values()].sort((a, b) => a.month.localeCompare(b.month) || a.unit.localeCompare(b.unit) || (a.currency ?? '').localeCompare(b.currency ?? ''));
}

export interface AllowanceGroup {
  group: string | null;
  learners: number;
  /** Learners with a megabyte allowance in the range, the megabytes issued to them, and what they used. */
  issuedLearners: number;
  issuedMegabytes: number;
  usedMegabytes: number;
}

export async function allowancesByGroup(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<AllowanceGroup[]> {
  const by = learnerGroup(f.by, range, 'pop.learner_id');
  const result = await rows<{ group: string | null; learners: number; issued_learners: number; issued: string | null; used: string | null }>(
    em,
    sql`WITH pop AS (${population(viewer, f, range)}),
        iss AS (
          SELECT i.learner_id, sum(i.amount) AS mb FROM allowance_issues i JOIN allowance_schemes s ON s.id = i.scheme_id
           WHERE s.programme_id IN (${scopeProgrammes(viewer, f)}) AND i.status <> 'cancelled' AND i.unit = 'megabytes'
             AND i.period_start >= ${range.from}::date AND i.period_start <= ${range.to}::date AND i.learner_id IN (SELECT learner_id FROM pop)
           GROUP BY i.learner_id
        ),
        spent AS (
          SELECT u.learner_id, sum(u.bytes) AS bytes FROM (${dataUsed(range, raw('SELECT learner_id FROM pop'))}) u (learner_id, month, bytes) GROUP BY u.learner_id
        ),
        x AS (
          SELECT ${by.group} AS g, iss.mb, spent.bytes FROM pop ${by.join}
            LEFT JOIN iss ON iss.learner_id = pop.learner_id LEFT JOIN spent ON spent.learner_id = pop.learner_id
        )
        SELECT g AS "group", count(*)::int AS learners, count(mb)::int AS issued_learners, sum(mb) AS issued, sum(bytes) AS used
          FROM x GROUP BY GROUPING SETS ((g), ())`,
  );
  return result.map((r) => ({ group: r.group, learners: r.learners, issuedLearners: r.issued_learners, issuedMegabytes: Number(r.issued ?? 0), usedMegabytes: Math.round(Number(r.used ?? 0) / 1_000_000) }));
}
