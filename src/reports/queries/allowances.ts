/** Allowances issued against budget and the data learners used. Read-only; see scope.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReportViewer } from '../reports.policy.ts';
import type { ReportFilters } from '../reports.schemas.ts';
import { groupOf, population, scopeProgrammes, type Range } from './scope.ts';
import { rows, sql } from './sql.ts';

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

export interface AllowanceGroup {
  group: string | null;
  learners: number;
  /** Learners with a megabyte allowance in the range, the megabytes issued to them, and what they used. */
  issuedLearners: number;
  issuedMegabytes: number;
  usedMegabytes: number;
}

export interface AllowanceFigures {
  months: AllowanceMonth[];
  groups: AllowanceGroup[];
}

/**
 * Both allowance tables in one statement, so the learner list, the allowances issued to them and
 * the data they used (over a million daily rows in a large programme) are each read once. Data
 * use is summed per learner and month before it is matched to the learner list: the match then
 * runs on a third of the rows.
 */
export async function allowanceFigures(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<AllowanceFigures> {
  type Unit = 'megabytes' | 'airtime';
  const result = await rows<{ kind: 'issued' | 'budget' | 'used' | 'group'; r: Record<string, unknown> }>(
    em,
    sql`WITH pop AS MATERIALIZED (${population(viewer, f, range)}),
        progs AS MATERIALIZED (${scopeProgrammes(viewer, f)}),
        iss AS MATERIALIZED (
          SELECT i.learner_id, i.period_start, i.unit, i.currency, i.amount FROM allowance_issues i JOIN allowance_schemes s ON s.id = i.scheme_id
           WHERE s.programme_id IN (SELECT programme_id FROM progs) AND i.status <> 'cancelled'
             AND i.period_start >= ${range.from}::date AND i.period_start <= ${range.to}::date AND i.learner_id IN (SELECT learner_id FROM pop)
        ),
        used AS MATERIALIZED (
          SELECT d.learner_id, d.month, d.bytes FROM (
            SELECT learner_id, date_trunc('month', day)::date AS month, sum(bytes) AS bytes FROM data_usage
             WHERE day >= ${range.from}::date AND day <= ${range.to}::date GROUP BY 1, 2
          ) d WHERE d.learner_id IN (SELECT learner_id FROM pop)
        ),
        periods AS (
          SELECT DISTINCT ON (b.scheme_id, b.period_start) b.period_start, v.unit, v.currency, v.budget
            FROM allowance_batches b JOIN allowance_scheme_versions v ON v.id = b.version_id JOIN allowance_schemes s ON s.id = b.scheme_id
           WHERE s.programme_id IN (SELECT programme_id FROM progs) AND b.period_start >= ${range.from}::date AND b.period_start <= ${range.to}::date
           ORDER BY b.scheme_id, b.period_start, b.id DESC
        ),
        issued_rows AS (
          SELECT to_char(date_trunc('month', period_start), 'YYYY-MM-DD') AS month, unit, currency, count(DISTINCT learner_id)::int AS learners, sum(amount) AS issued
            FROM iss GROUP BY 1, 2, 3
        ),
        budget_rows AS (SELECT to_char(date_trunc('month', period_start), 'YYYY-MM-DD') AS month, unit, currency, sum(budget) AS budget FROM periods GROUP BY 1, 2, 3),
        used_rows AS (SELECT to_char(month, 'YYYY-MM-DD') AS month, sum(bytes) AS bytes FROM used GROUP BY 1),
        x AS (
          SELECT ${groupOf(f.by, range)} AS g, im.mb, ul.bytes FROM pop JOIN users u ON u.id = pop.learner_id
            LEFT JOIN (SELECT learner_id, sum(amount) AS mb FROM iss WHERE unit = 'megabytes' GROUP BY learner_id) im ON im.learner_id = pop.learner_id
            LEFT JOIN (SELECT learner_id, sum(bytes) AS bytes FROM used GROUP BY learner_id) ul ON ul.learner_id = pop.learner_id
        ),
        group_rows AS (
          SELECT g AS "group", count(*)::int AS learners, count(mb)::int AS issued_learners, sum(mb)::text AS issued, sum(bytes)::text AS used
            FROM x GROUP BY GROUPING SETS ((g), ())
        )
        SELECT 'issued' AS kind, jsonb_build_object('month', month, 'unit', unit, 'currency', currency, 'learners', learners, 'issued', issued::text) AS r FROM issued_rows
        UNION ALL SELECT 'budget', jsonb_build_object('month', month, 'unit', unit, 'currency', currency, 'budget', budget::text) FROM budget_rows
        UNION ALL SELECT 'used', jsonb_build_object('month', month, 'bytes', bytes::text) FROM used_rows
        UNION ALL SELECT 'group', to_jsonb(group_rows) FROM group_rows`,
  );
  const of = <T>(kind: string) => result.filter((row) => row.kind === kind).map((row) => row.r as T);
  const out = new Map<string, AllowanceMonth>();
  const row = (month: string, unit: Unit, currency: string | null) => {
    const key = `${month}|${unit}|${currency ?? ''}`;
    let r = out.get(key);
    if (!r) {
      r = { month, unit, currency, learners: 0, issued: 0, budget: 0, usedMegabytes: unit === 'megabytes' ? 0 : null };
      out.set(key, r);
    }
    return r;
  };
  for (const i of of<{ month: string; unit: Unit; currency: string | null; learners: number; issued: string }>('issued')) Object.assign(row(i.month, i.unit, i.currency), { learners: i.learners, issued: Number(i.issued) });
  for (const b of of<{ month: string; unit: Unit; currency: string | null; budget: string }>('budget')) row(b.month, b.unit, b.currency).budget = Number(b.budget);
  for (const u of of<{ month: string; bytes: string }>('used')) row(u.month, 'megabytes', null).usedMegabytes = Math.round(Number(u.bytes) / 1_000_000);
  const months = [...out.values()].sort((a, b) => a.month.localeCompare(b.month) || a.unit.localeCompare(b.unit) || (a.currency ?? '').localeCompare(b.currency ?? ''));
  const groups = of<{ group: string | null; learners: number; issued_learners: number; issued: string | null; used: string | null }>('group').map((r) => ({
    group: r.group,
    learners: r.learners,
    issuedLearners: r.issued_learners,
    issuedMegabytes: Number(r.issued ?? 0),
    usedMegabytes: Math.round(Number(r.used ?? 0) / 1_000_000),
  }));
  return { months, groups };
}
