import { defineEntity, p } from '@mikro-orm/core';
import { User } from '../accounts/index.ts';
import { Programme } from '../programmes/index.ts';
import { PERIOD_KINDS } from './periods.ts';

export const UNITS = ['megabytes', 'airtime'] as const;
export type AllowanceUnit = (typeof UNITS)[number];

export const RULES = ['enrolled', 'lessons', 'minutes', 'assignment'] as const;
export type EligibilityRule = (typeof RULES)[number];

export const ISSUE_STATUSES = ['pending', 'sent', 'delivered', 'failed', 'cancelled'] as const;
export type IssueStatus = (typeof ISSUE_STATUSES)[number];

export const LEDGER_KINDS = ['issued', 'sent', 'delivered', 'failed', 'resent', 'cancelled'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/** A programme's allowance: its name stays, its terms live in versions. */
const AllowanceSchemeSchema = defineEntity({
  name: 'AllowanceScheme',
  tableName: 'allowance_schemes',
  uniques: [{ properties: ['programme', 'name'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    programme: () => p.manyToOne(Programme).ref(),
    name: p.string().length(120),
    versions: () => p.oneToMany(AllowanceSchemeVersion).mappedBy('scheme'),
    createdBy: () => p.manyToOne(User).ref(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class AllowanceScheme extends AllowanceSchemeSchema.class {}
AllowanceSchemeSchema.setClass(AllowanceScheme);

/**
 * The terms of a scheme from `startsOn` onwards. Never edited: a change is a new version that
 * starts after the current period, so what was promised for a period stays what it was.
 */
const AllowanceSchemeVersionSchema = defineEntity({
  name: 'AllowanceSchemeVersion',
  tableName: 'allowance_scheme_versions',
  uniques: [{ properties: ['scheme', 'version'] }],
  checks: [
    { name: 'allowance_scheme_versions_amounts_check', expression: 'amount > 0 and budget >= amount and threshold >= 1 and version >= 1' },
    { name: 'allowance_scheme_versions_currency_check', expression: "(unit = 'airtime') = (currency is not null)" },
  ],
  properties: {
    id: p.integer().primary().autoincrement(),
    scheme: () => p.manyToOne(AllowanceScheme).ref(),
    version: p.integer(),
    /** First day of the first period these terms apply to. */
    startsOn: p.date(),
    period: p.enum(PERIOD_KINDS),
    unit: p.enum(UNITS),
    /** ISO 4217 code for airtime; null for megabytes. */
    currency: p.string().length(3).nullable(),
    /** Per learner and period: megabytes, or airtime in the currency's minor units. */
    amount: p.integer(),
    /** Most the programme pays out per period under this scheme, in the same unit. */
    budget: p.integer(),
    rule: p.enum(RULES),
    /** N in "at least N lessons / minutes"; 1 for the other rules. */
    threshold: p.integer(),
    /** Empty lists: the whole programme. Otherwise learners of these cohorts or of cohorts at these sites. */
    cohortIds: p.json<number[]>(),
    siteIds: p.json<number[]>(),
    /** Why it changed, in the coordinator's words. */
    note: p.text().nullable(),
    createdBy: () => p.manyToOne(User).ref(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class AllowanceSchemeVersion extends AllowanceSchemeVersionSchema.class {}
AllowanceSchemeVersionSchema.setClass(AllowanceSchemeVersion);

/** One press of "Issue": who issued which period, and what happened to the budget. */
const AllowanceBatchSchema = defineEntity({
  name: 'AllowanceBatch',
  tableName: 'allowance_batches',
  indexes: [{ properties: ['scheme', 'periodStart'] }],
  checks: [{ name: 'allowance_batches_counts_check', expression: 'issued_count >= 0 and left_out_for_budget >= 0' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    scheme: () => p.manyToOne(AllowanceScheme).ref(),
    version: () => p.manyToOne(AllowanceSchemeVersion).ref(),
    periodStart: p.date(),
    periodEnd: p.date(),
    /** Made by the preview form: a double click or a retry finds the batch it already made. */
    idempotencyKey: p.string().length(64).unique(),
    issuedCount: p.integer(),
    /** Eligible learners left out because the period's budget ran out. */
    leftOutForBudget: p.integer().default(0),
    createdBy: () => p.manyToOne(User).ref(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class AllowanceBatch extends AllowanceBatchSchema.class {}
AllowanceBatchSchema.setClass(AllowanceBatch);

/**
 * One learner's allowance for one period of one scheme. The unique constraint is what makes
 * paying twice impossible, whatever the requests do. `status` and `attempt` follow the ledger:
 * they change only together with a new ledger entry (see ledger.ts).
 */
const AllowanceIssueSchema = defineEntity({
  name: 'AllowanceIssue',
  tableName: 'allowance_issues',
  uniques: [{ properties: ['scheme', 'learner', 'periodStart'] }],
  indexes: [{ properties: ['batch'] }, { properties: ['learner'] }],
  checks: [{ name: 'allowance_issues_amount_check', expression: 'amount > 0 and attempt >= 0' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    scheme: () => p.manyToOne(AllowanceScheme).ref(),
    batch: () => p.manyToOne(AllowanceBatch).ref(),
    learner: () => p.manyToOne(User).ref(),
    periodStart: p.date(),
    amount: p.integer(),
    unit: p.enum(UNITS),
    currency: p.string().length(3).nullable(),
    /** E.164 the allowance goes to (refreshed from the profile when it is sent again). */
    phone: p.string().length(16),
    operator: p.string().length(40).nullable(),
    status: p.enum(ISSUE_STATUSES),
    /** Counts sends; part of the operator reference, so a confirmation of an old attempt is recognised. */
    attempt: p.integer().default(0),
    operatorTransactionId: p.string().length(100).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class AllowanceIssue extends AllowanceIssueSchema.class {}
AllowanceIssueSchema.setClass(AllowanceIssue);

/**
 * Append-only: every change to an allowance is a new row, and the database refuses UPDATE,
 * DELETE and TRUNCATE on this table (trigger in the migration). `amount` is signed: + when
 * issued, − when cancelled; what a period, learner or batch has received is the sum.
 */
const AllowanceLedgerEntrySchema = defineEntity({
  name: 'AllowanceLedgerEntry',
  tableName: 'allowance_ledger',
  // `at`: the report rollups find the allowances that changed lately by it (reports/rollups.ts).
  indexes: [{ properties: ['issue'] }, { properties: ['batch'] }, { properties: ['learner'] }, { properties: ['scheme', 'periodStart'] }, { properties: ['handoff'] }, { properties: ['at'] }],
  // Declared here (not only in a migration) so that schema diffs know it and never drop it. TRUNCATE
  // is refused by a second trigger in the migration: schema diffs cannot see statement triggers.
  triggers: [
    {
      name: 'allowance_ledger_no_change',
      timing: 'before',
      events: ['update', 'delete'],
      forEach: 'row',
      body: "raise exception 'allowance_ledger is append-only: % is refused', tg_op using errcode = 'restrict_violation';",
    },
  ],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    issue: () => p.manyToOne(AllowanceIssue).ref(),
    batch: () => p.manyToOne(AllowanceBatch).ref(),
    scheme: () => p.manyToOne(AllowanceScheme).ref(),
    learner: () => p.manyToOne(User).ref(),
    periodStart: p.date(),
    kind: p.enum(LEDGER_KINDS),
    amount: p.integer(),
    unit: p.enum(UNITS),
    currency: p.string().length(3).nullable(),
    statusAfter: p.enum(ISSUE_STATUSES),
    /** Sends only: the number and operator reference handed over, and the hand-off file they went in. */
    phone: p.string().length(16).nullable(),
    reference: p.string().length(40).nullable(),
    handoff: p.uuid().nullable(),
    operatorTransactionId: p.string().length(100).nullable(),
    /** Why, as a translation key and its variables, so every reader sees it in their language. */
    whyKey: p.string().length(80),
    whyVars: p.json<Record<string, string | number>>(),
    /** The coordinator's own words (cancellations). */
    note: p.text().nullable(),
    actor: () => p.manyToOne(User).ref(),
    at: p.datetime().onCreate(() => new Date()),
  },
});
export class AllowanceLedgerEntry extends AllowanceLedgerEntrySchema.class {}
AllowanceLedgerEntrySchema.setClass(AllowanceLedgerEntry);

/** Bytes Dars sent to a learner on one day of their own calendar; written in batches by the meter. */
const DataUsageSchema = defineEntity({
  name: 'DataUsage',
  tableName: 'data_usage',
  checks: [{ name: 'data_usage_bytes_check', expression: 'bytes >= 0' }],
  properties: {
    learner: () => p.manyToOne(User).ref().primary().deleteRule('cascade'),
    day: p.date().primary(),
    bytes: p.bigint('number'),
  },
});
export class DataUsage extends DataUsageSchema.class {}
DataUsageSchema.setClass(DataUsage);

export { AllowanceSchemeSchema, AllowanceSchemeVersionSchema, AllowanceBatchSchema, AllowanceIssueSchema, AllowanceLedgerEntrySchema, DataUsageSchema };
