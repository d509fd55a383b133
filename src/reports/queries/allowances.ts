/** Allowances issued against budget and the data learners used. Read-only; see scope.ts. */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ReportViewer } from '../reports.policy.ts';
import type { ReportFilters } from '../reports.schemas.ts';
import { learnerGroup, perGroupAndTotal, population, scopeProgrammes, type Range } from './scope.ts';
import { monthNumber, wholeMonths } from './hours.ts';
import { raw, rows, sql, type Sql } from './sql.ts';

/**
 * Bytes each learner used per month of the range, as (learner_id, month, bytes) rows, from the
 * monthly rollup (rollups.ts): a month whose first and last days of use both fall in the range is
 * read as counted; one the range cuts through has that learner's days inside the range added up
 * again (a learner's day may run ahead of the viewer's, so even "up to today" can cut a month).
 * Every learner's rows: the caller joins its learners to them.
 */
function dataUsed(range: Range): Sql {
  const firstMonth = `${range.from.slice(0, 8)}01`;
  return sql`SELECT * FROM (
      SELECT m.learner_id, m.month,
             CASE WHEN m.first_day >= ${range.from}::date AND m.last_day <= ${range.to}::date THEN m.bytes
                  ELSE (SELECT sum(d.bytes)::bigint FROM data_usage d WHERE d.learner_id = m.learner_id
                           AND d.day >= greatest(m.first_day, ${range.from}::date) AND d.day <= least(m.last_day, ${range.to}::date)) END AS bytes
        FROM report_data_months m
       WHERE m.month >= ${firstMonth}::date AND m.month <= ${range.to}::date AND m.last_day >= ${range.from}::date AND m.first_day <= ${range.to}::date
    ) u WHERE u.bytes IS NOT NULL`;
}

/**
 * What each learner was given per month, unit and currency of the range, as (m, unit, currency,
 * learner_id, amount) rows, from the monthly rollup (rollups.ts): a month whose first and last
 * period starts both fall in the range is read as counted; one the range cuts through has that
 * learner's allowances inside the range added up again. A learner given allowances by two
 * programmes in scope has a row from each, summed into one. `months` narrows the months read.
 */
function given(viewer: ReportViewer, f: ReportFilters, range: Range, learners: Sql, months: Sql): Sql {
  const firstMonth = `${range.from.slice(0, 8)}01`;
  const rowsOf = sql`SELECT * FROM (
      SELECT r.month AS m, r.unit, nullif(r.currency, '') AS currency, r.learner_id,
             CASE WHEN r.first_day >= ${range.from}::date AND r.last_day <= ${range.to}::date THEN r.amount
                  ELSE (SELECT sum(i.amount) FROM allowance_issues i JOIN allowance_schemes s ON s.id = i.scheme_id
                         WHERE i.learner_id = r.learner_id AND s.programme_id = r.programme_id AND i.unit = r.unit AND coalesce(i.currency, '') = r.currency
                           AND i.status <> 'cancelled' AND i.period_start >= greatest(r.first_day, ${range.from}::date) AND i.period_start <= least(r.last_day, ${range.to}::date)) END AS amount
        FROM report_issue_months r
       WHERE r.programme_id IN (${scopeProgrammes(viewer, f)}) AND r.month >= ${firstMonth}::date AND r.month <= ${range.to}::date AND ${months}
         AND r.last_day >= ${range.from}::date AND r.first_day <= ${range.to}::date AND r.learner_id IN (${learners})
    ) u WHERE u.amount IS NOT NULL`;
  // With one programme in scope the rows are already one per learner, month, unit and currency.
  if (!severalProgrammes(f)) return rowsOf;
  return sql`SELECT m, unit, currency, learner_id, sum(amount) AS amount FROM (${rowsOf}) p GROUP BY 1, 2, 3, 4`;
}

const severalProgrammes = (f: ReportFilters) => (f.programmeIds?.length ?? 2) > 1;

/**
 * The allowance figures of the whole calendar months of the range from the rollups that count
 * every learner (report_issue_month_totals per programme and month, report_issue_totals per
 * learner), and the months at the range's edges from each learner's months. Per month: the
 * programme's months less the learners out of scope (or, when those outnumber the learners in
 * scope, the learners in scope added up instead), a learner given allowances by two programmes in
 * scope counted once. Per learner: two lookups in their running totals. Yields CTEs `issued_parts`
 * (m, unit, currency, learners, amount), and `whole_mb` and `edge_mb` (learner_id, mb: megabytes
 * in the whole months, in the months at the edges), after `pop`.
 */
function issuedFromTotals(viewer: ReportViewer, f: ReportFilters, range: Range): Sql {
  const months = wholeMonths(range, null) ?? { from: `${range.from.slice(0, 8)}01`, to: `${range.from.slice(0, 8)}01` };
  const programmes = scopeProgrammes(viewer, f);
  const whole = sql`r.month >= ${months.from}::date AND r.month < ${months.to}::date`;
  const subtract = raw('(SELECT yes FROM subtract)');
  // Running total through the month before `month` (see report_issue_totals): 0 before the first.
  const through = (month: string) => sql`coalesce(t.megabytes[least(${monthNumber(month)}::int - t.first_month, cardinality(t.megabytes))], 0)`;
  const perLearner = sql`SELECT t.learner_id, ${through(months.to)} - ${through(months.from)} AS mb FROM report_issue_totals t WHERE t.programme_id IN (${programmes})`;
  return sql`edge AS MATERIALIZED (${given(viewer, f, range, raw('SELECT learner_id FROM pop'), sql`NOT (${whole})`)}),
    outside AS MATERIALIZED (
      SELECT DISTINCT t.learner_id FROM report_issue_totals t WHERE t.programme_id IN (${programmes}) AND NOT EXISTS (SELECT 1 FROM pop WHERE pop.learner_id = t.learner_id)
    ),
    subtract AS MATERIALIZED (SELECT (SELECT count(*) FROM outside) < (SELECT count(*) FROM pop) AS yes),
    issued_parts AS (
      SELECT r.month AS m, r.unit, nullif(r.currency, '') AS currency, r.learners, r.amount FROM report_issue_month_totals r
       WHERE r.programme_id IN (${programmes}) AND ${whole} AND ${subtract}
      UNION ALL SELECT r.month, r.unit, nullif(r.currency, ''), -1, -r.amount FROM report_issue_months r
       WHERE r.learner_id IN (SELECT learner_id FROM outside) AND r.programme_id IN (${programmes}) AND ${whole} AND ${subtract}
      ${
        severalProgrammes(f)
          ? sql`UNION ALL SELECT r.month, r.unit, nullif(r.currency, ''), 1 - count(*), 0 FROM report_issue_months r
                 WHERE r.learner_id IN (SELECT t.learner_id FROM report_issue_totals t WHERE t.programme_id IN (${programmes}) GROUP BY t.learner_id HAVING count(*) > 1)
                   AND r.learner_id IN (SELECT learner_id FROM pop) AND r.programme_id IN (${programmes}) AND ${whole} AND ${subtract}
                 GROUP BY r.learner_id, r.month, r.unit, r.currency HAVING count(*) > 1`
          : raw('')
      }
      UNION ALL SELECT m, unit, currency, 1, amount FROM (${given(viewer, f, range, raw('SELECT learner_id FROM pop'), whole)}) i WHERE NOT ${subtract}
      UNION ALL SELECT m, unit, currency, 1, amount FROM edge
    ),
    whole_mb AS (${severalProgrammes(f) ? sql`SELECT learner_id, sum(mb) AS mb FROM (${perLearner}) w GROUP BY learner_id` : perLearner}),
    edge_mb AS (SELECT learner_id, sum(amount) AS mb FROM edge WHERE unit = 'megabytes' GROUP BY learner_id)`;
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
 * The monthly table and the per-group table. Allowances and data use are read in two statements
 * side by side, each once for both tables (a page has two cores to answer on); their group rows
 * are put together here. Months are written as text only once per month.
 */
export async function allowanceFigures(em: EntityManager, viewer: ReportViewer, f: ReportFilters, range: Range): Promise<AllowanceFigures> {
  const pop = population(viewer, f, range);
  const inGroup = learnerGroup(f.by, range, 'pop.learner_id');
  const issuedQuery = rows<{ kind: 'issued' | 'group'; r: Record<string, unknown> }>(
    em,
    sql`WITH pop AS MATERIALIZED (${pop}),
        ${issuedFromTotals(viewer, f, range)},
        issued_rows AS (
          SELECT to_char(m, 'YYYY-MM-DD') AS month, unit, currency, sum(learners)::int AS learners, sum(amount)::bigint AS issued
            FROM issued_parts GROUP BY m, unit, currency HAVING sum(learners) > 0
        ),
        x AS (
          SELECT ${inGroup.group} AS g, coalesce(w.mb, 0) + coalesce(e.mb, 0) AS mb
            FROM pop ${inGroup.join} LEFT JOIN whole_mb w ON w.learner_id = pop.learner_id LEFT JOIN edge_mb e ON e.learner_id = pop.learner_id
        ),
        group_rows AS (${perGroupAndTotal(f.by, raw('count(*)::int AS learners, (count(*) FILTER (WHERE mb > 0))::int AS issued_learners, coalesce(sum(mb), 0)::bigint AS issued'), raw('x'))})
        SELECT 'issued' AS kind, to_jsonb(issued_rows) AS r FROM issued_rows
        UNION ALL SELECT 'group', to_jsonb(group_rows) FROM group_rows`,
  );
  // Data use: every learner's months of the range joined to the learners in scope and their group,
  // then summed per month, per group and for everyone in one pass. Testing each month against the
  // learners and summing it per learner first cost twice as much.
  const usedQuery = rows<{ kind: 'used' | 'group'; r: Record<string, unknown> }>(
    em,
    sql`WITH pop AS MATERIALIZED (${pop}),
        grouped AS MATERIALIZED (SELECT pop.learner_id, ${inGroup.group} AS g FROM pop ${inGroup.join}),
        sums AS (
          SELECT grouping(d.month) = 1 AS per_group, to_char(d.month, 'YYYY-MM-DD') AS month, p.g AS "group", sum(d.bytes)::bigint AS bytes
            FROM (${dataUsed(range)}) d JOIN grouped p ON p.learner_id = d.learner_id
           GROUP BY GROUPING SETS ((d.month), (p.g), ())
        )
        SELECT CASE WHEN per_group THEN 'group' ELSE 'used' END AS kind, to_jsonb(sums) AS r FROM sums`,
  );
  const budgetQuery = rows<{ month: string; unit: 'megabytes' | 'airtime'; currency: string | null; budget: string }>(
    em,
    sql`WITH periods AS (
          SELECT DISTINCT ON (b.scheme_id, b.period_start) b.period_start, v.unit, v.currency, v.budget
            FROM allowance_batches b JOIN allowance_scheme_versions v ON v.id = b.version_id JOIN allowance_schemes s ON s.id = b.scheme_id
           WHERE s.programme_id IN (${scopeProgrammes(viewer, f)}) AND b.period_start >= ${range.from}::date AND b.period_start <= ${range.to}::date
           ORDER BY b.scheme_id, b.period_start, b.id DESC
        )
        SELECT to_char(date_trunc('month', period_start), 'YYYY-MM-DD') AS month, unit, currency, sum(budget) AS budget FROM periods GROUP BY 1, 2, 3`,
  );
  const [issued, used, budgets] = await Promise.all([issuedQuery, usedQuery, budgetQuery]);
  const of = <T>(result: { kind: string; r: Record<string, unknown> }[], kind: string) => result.filter((row) => row.kind === kind).map((row) => row.r as T);
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
  for (const i of of<{ month: string; unit: 'megabytes' | 'airtime'; currency: string | null; learners: number; issued: number | string }>(issued, 'issued')) {
    Object.assign(row(i.month, i.unit, i.currency), { learners: i.learners, issued: Number(i.issued) });
  }
  for (const b of budgets) row(b.month, b.unit, b.currency).budget = Number(b.budget);
  for (const u of of<{ month: string; bytes: number | string }>(used, 'used')) row(u.month, 'megabytes', null).usedMegabytes = Math.round(Number(u.bytes) / 1_000_000);
  const months = [...out.values()].sort((a, b) => a.month.localeCompare(b.month) || a.unit.localeCompare(b.unit) || (a.currency ?? '').localeCompare(b.currency ?? ''));
  // Every learner in scope is in the first statement's groups; the second has only those who used data.
  const usedBy = new Map(of<{ group: string | null; bytes: number | string | null }>(used, 'group').map((g) => [g.group, Number(g.bytes ?? 0)]));
  const groups = of<{ group: string | null; learners: number; issued_learners: number; issued: number | string | null }>(issued, 'group').map((r) => ({
    group: r.group,
    learners: r.learners,
    issuedLearners: r.issued_learners,
    issuedMegabytes: Number(r.issued ?? 0),
    usedMegabytes: Math.round((usedBy.get(r.group) ?? 0) / 1_000_000),
  }));
  return { months, groups };
}
