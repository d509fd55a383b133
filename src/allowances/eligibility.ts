/**
 * Who has earned a period's allowance, and why, in words a coordinator can check. Activity rules
 * look at the period before the one being paid, counted in each learner's own time zone.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EligibilityRule } from './allowance.entity.ts';
import { type Period, windowIn } from './periods.ts';

/** Counts per learner over [from, to); learners with none may be missing from the map. */
export type FactLookup = (em: EntityManager, learnerIds: number[], from: Date, to: Date) => Promise<Map<number, number>>;

/** What the courses and assignments slices know about learners' activity (wired in app.ts). */
export interface EligibilityFacts {
  lessonsCompletedBy: FactLookup;
  studySecondsBy: FactLookup;
  submissionsBy: FactLookup;
}

/** A translation key and its variables: shown in the reader's language, stored as it is. */
export interface Reason {
  key: string;
  vars: Record<string, string | number>;
}

export interface Candidate {
  learnerId: number;
  timeZone: string;
  /** Account switched on. */
  active: boolean;
  /** An active enrolment in one of the scheme's cohorts. */
  enrolled: boolean;
}

export interface Verdict {
  eligible: boolean;
  reason: Reason;
}

export interface RuleTerms {
  rule: EligibilityRule;
  threshold: number;
}

const lookupOf: Record<Exclude<EligibilityRule, 'enrolled'>, keyof EligibilityFacts> = {
  lessons: 'lessonsCompletedBy',
  minutes: 'studySecondsBy',
  assignment: 'submissionsBy',
};

export async function judge(em: EntityManager, facts: EligibilityFacts, terms: RuleTerms, candidates: Candidate[], previous: Period): Promise<Map<number, Verdict>> {
  const verdicts = new Map<number, Verdict>();
  const counted: Candidate[] = [];
  for (const c of candidates) {
    if (!c.active) verdicts.set(c.learnerId, { eligible: false, reason: { key: 'allowances:reason.inactive', vars: {} } });
    else if (!c.enrolled) verdicts.set(c.learnerId, { eligible: false, reason: { key: 'allowances:reason.notEnrolled', vars: {} } });
    else if (terms.rule === 'enrolled') verdicts.set(c.learnerId, { eligible: true, reason: { key: 'allowances:reason.enrolled', vars: {} } });
    else counted.push(c);
  }
  if (terms.rule === 'enrolled' || counted.length === 0) return verdicts;

  // One lookup per time zone: everyone in a zone shares the same instants for the period.
  const byZone = Map.groupBy(counted, (c) => c.timeZone);
  const lookup = facts[lookupOf[terms.rule]];
  for (const [zone, group] of byZone) {
    const { from, to } = windowIn(previous, zone);
    const counts = await lookup(em, group.map((c) => c.learnerId), from, to);
    for (const c of group) verdicts.set(c.learnerId, verdictFor(terms, counts.get(c.learnerId) ?? 0));
  }
  return verdicts;
}

function verdictFor({ rule, threshold }: RuleTerms, value: number): Verdict {
  switch (rule) {
    case 'lessons':
      return { eligible: value >= threshold, reason: { key: 'allowances:reason.lessons', vars: { done: value, count: threshold } } };
    case 'minutes': {
      // Whole minutes only: 29 minutes 59 seconds of a 30-minute rule is not 30 minutes.
      const minutes = Math.floor(value / 60);
      return { eligible: minutes >= threshold, reason: { key: 'allowances:reason.minutes', vars: { done: minutes, count: threshold } } };
    }
    case 'assignment':
      return value >= 1
        ? { eligible: true, reason: { key: 'allowances:reason.submitted', vars: { count: value } } }
        : { eligible: false, reason: { key: 'allowances:reason.noSubmission', vars: {} } };
    case 'enrolled':
      return { eligible: true, reason: { key: 'allowances:reason.enrolled', vars: {} } };
  }
}
