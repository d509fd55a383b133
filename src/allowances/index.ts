/**
 * allowances — mobile data (or airtime) a programme gives its learners, and what they use of Dars.
 *
 * Words: a *scheme* says how much each eligible learner receives per *period* (weekly or
 * monthly, in the learner's own calendar), under an *eligibility rule*, within a *budget* per
 * period; changing a scheme adds a *version* that applies from a later period. The *preview*
 * lists who is eligible and why; *issuing* makes a *batch* of *allowances* (AllowanceIssue, one
 * per learner, scheme and period, never two); an allowance goes pending → sent → delivered or
 * failed, and a failed one is sent again or cancelled. The *ledger* records every change and is
 * never edited. A *hand-off* is one file of allowances given to the operator; the operator's
 * *confirmation* file says which were delivered. The *meter* counts bytes sent to each learner
 * per day (*data usage*).
 */
export {
  AllowanceScheme,
  AllowanceSchemeVersion,
  AllowanceBatch,
  AllowanceIssue,
  AllowanceLedgerEntry,
  DataUsage,
  AllowanceSchemeSchema,
  AllowanceSchemeVersionSchema,
  AllowanceBatchSchema,
  AllowanceIssueSchema,
  AllowanceLedgerEntrySchema,
  DataUsageSchema,
} from './allowance.entity.ts';
export { allowancesRoutes } from './allowances.routes.ts';
export { allowanceCapabilities } from './allowances.policy.ts';
export { type EligibilityFacts, type FactLookup } from './eligibility.ts';
export { type TopUpAdapter, type TopUpOrder, type TopUpOutcome, csvAdapter } from './handoff.ts';
export { createMeter, type Meter, type MeterOptions } from './metering.ts';
export { dataAllowanceSection, profileDataUsage } from './learner-views.ts';
export { usedThisMonth } from './usage.service.ts';
export { seedDemoScheme } from './demo.ts';
