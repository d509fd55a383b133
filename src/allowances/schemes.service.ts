/**
 * Allowance schemes and their versions. A scheme's history is a list of segments: each version
 * applies from its first day until a later version starts, and a later version may only start
 * after the current period, so no period already under way ever changes its terms.
 */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/index.ts';
import type { Actor } from '../platform/actor.ts';
import { InvalidInput, NotFound } from '../platform/errors.ts';
import { Programme } from '../programmes/index.ts';
import { AllowanceBatch, AllowanceScheme, AllowanceSchemeVersion } from './allowance.entity.ts';
import { programmesPayableBy, schemesVisibleTo } from './allowances.policy.ts';
import type { TermsInput } from './allowances.schemas.ts';
import { type LocalDate, type Period, type Segment, addDays, periodContaining, todayIn } from './periods.ts';

export interface TimelineSegment extends Segment {
  version: AllowanceSchemeVersion;
}

/** Versions in the order they were made; each cuts short whatever started on or after its first day. */
export function timelineOf(versions: AllowanceSchemeVersion[]): TimelineSegment[] {
  let segments: TimelineSegment[] = [];
  for (const v of [...versions].sort((a, b) => a.version - b.version)) {
    segments = segments.filter((s) => s.start < v.startsOn);
    segments.push({ start: v.startsOn, kind: v.period, version: v });
  }
  return segments;
}

export function versionAt(timeline: TimelineSegment[], date: LocalDate): AllowanceSchemeVersion | null {
  let found: AllowanceSchemeVersion | null = null;
  for (const s of timeline) if (s.start <= date) found = s.version;
  return found;
}

/** The programme with its sites and cohorts, if the actor coordinates it. */
export async function payableProgramme(em: EntityManager, actor: Actor, programmeId: number) {
  const programme = await em.findOne(Programme, { $and: [{ id: programmeId }, programmesPayableBy(actor)] }, { populate: ['sites', 'cohorts'] });
  if (!programme) throw new NotFound();
  return programme;
}

export async function getScheme(em: EntityManager, actor: Actor, id: number) {
  const scheme = await em.findOne(AllowanceScheme, { $and: [{ id }, schemesVisibleTo(actor)] }, { populate: ['programme', 'versions', 'versions.createdBy'] });
  if (!scheme) throw new NotFound();
  const versions = scheme.versions.getItems().sort((a, b) => a.version - b.version);
  return { scheme, versions, timeline: timelineOf(versions) };
}

/** Every programme the actor coordinates, with its schemes. */
export async function listSchemes(em: EntityManager, actor: Actor) {
  const programmes = await em.find(Programme, programmesPayableBy(actor), { orderBy: { name: 'asc' } });
  const schemes = programmes.length
    ? await em.find(AllowanceScheme, { programme: { $in: programmes.map((p) => p.id) } }, { populate: ['versions'], orderBy: { name: 'asc' } })
    : [];
  return programmes.map((p) => ({
    programme: p,
    schemes: schemes
      .filter((s) => s.programme.id === p.id)
      .map((s) => ({ scheme: s, latest: s.versions.getItems().reduce((a, b) => (b.version > a.version ? b : a)) })),
  }));
}

export async function createScheme(em: EntityManager, actor: Actor, programmeId: number, input: TermsInput & { name: string }) {
  const programme = await payableProgramme(em, actor, programmeId);
  checkScope(programme, input);
  try {
    return await em.transactional(async (tx) => {
      const scheme = tx.create(AllowanceScheme, { programme: tx.getReference(Programme, programme.id), name: input.name, createdBy: tx.getReference(User, actor.id) });
      tx.create(AllowanceSchemeVersion, versionFields(tx, scheme, 1, input, actor));
      await tx.flush();
      return scheme;
    });
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw new InvalidInput({ name: { key: 'allowances:errors.nameTaken' } });
    throw err;
  }
}

/**
 * The first day a change may start: after the period under way (in the coordinator's calendar)
 * and after every period already paid, so what was promised for them stays as it was.
 */
export async function earliestChange(em: EntityManager, scheme: AllowanceScheme, timeline: TimelineSegment[], actor: Actor, now = new Date()): Promise<LocalDate> {
  const today = todayIn(actor.timeZone, now);
  const current = periodContaining(timeline, today);
  let earliest = current ? current.end : today;
  const [last] = await em.find(AllowanceBatch, { scheme }, { orderBy: { periodStart: 'desc' }, limit: 1 });
  if (last && last.periodEnd > earliest) earliest = last.periodEnd;
  return earliest;
}

export async function addVersion(em: EntityManager, actor: Actor, schemeId: number, input: TermsInput, now = new Date()) {
  const { scheme, versions, timeline } = await getScheme(em, actor, schemeId);
  checkScope(await payableProgramme(em, actor, scheme.programme.id), input);
  const earliest = await earliestChange(em, scheme, timeline, actor, now);
  if (input.startsOn < earliest) throw new InvalidInput({ startsOn: { key: 'allowances:errors.startsTooEarly', vars: { date: earliest } } });
  const next = Math.max(...versions.map((v) => v.version)) + 1;
  try {
    await em.transactional(async (tx) => {
      tx.create(AllowanceSchemeVersion, versionFields(tx, tx.getReference(AllowanceScheme, scheme.id), next, input, actor));
      await tx.flush();
    });
  } catch (err) {
    // Two coordinators saving a change at once: the version number is taken; the later one reloads.
    if (err instanceof UniqueConstraintViolationException) throw new InvalidInput({ startsOn: { key: 'allowances:errors.changedMeanwhile' } });
    throw err;
  }
  return scheme;
}

function versionFields(em: EntityManager, scheme: AllowanceScheme, version: number, input: TermsInput, actor: Actor) {
  return {
    scheme,
    version,
    startsOn: input.startsOn,
    period: input.period,
    unit: input.unit,
    currency: input.currency,
    amount: input.amount,
    budget: input.budget,
    rule: input.rule,
    threshold: input.threshold,
    cohortIds: [...new Set(input.cohortIds)].sort((a, b) => a - b),
    siteIds: [...new Set(input.siteIds)].sort((a, b) => a - b),
    note: input.note ?? null,
    createdBy: em.getReference(User, actor.id),
  };
}

/** Cohorts and sites named by the form must belong to the scheme's programme. */
function checkScope(programme: Programme, input: TermsInput) {
  const cohorts = new Set(programme.cohorts.getItems().map((c) => c.id));
  const sites = new Set(programme.sites.getItems().map((s) => s.id));
  if (input.cohortIds.some((id) => !cohorts.has(id))) throw new InvalidInput({ cohortIds: { key: 'validation:choose' } });
  if (input.siteIds.some((id) => !sites.has(id))) throw new InvalidInput({ siteIds: { key: 'validation:choose' } });
}

/** Periods worth offering on the scheme page: a few before today, the current one and the next. */
export function nearbyPeriods(timeline: TimelineSegment[], today: LocalDate, before = 4): Period[] {
  if (timeline.length === 0) return [];
  const current = periodContaining(timeline, today);
  const out: Period[] = [];
  let p = current ?? periodContaining(timeline, timeline[0]!.start)!;
  const next = periodContaining(timeline, p.end);
  if (next && current) out.push(next);
  for (let i = 0; i <= before; i++) {
    out.push(p);
    const prev = periodContaining(timeline, addDays(p.start, -1));
    if (!prev) break;
    p = prev;
  }
  return out;
}
