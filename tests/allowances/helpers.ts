/** Allowance records for tests, made through the slice's own services. */
import { User, toActor } from '../../src/accounts/index.ts';
import { createScheme } from '../../src/allowances/schemes.service.ts';
import type { TestApp } from '../support/app.ts';

export interface SchemeTerms {
  name?: string;
  unit?: 'megabytes' | 'airtime';
  currency?: string | null;
  amount?: number;
  period?: 'weekly' | 'monthly';
  startsOn?: string;
  budget?: number;
  rule?: 'enrolled' | 'lessons' | 'minutes' | 'assignment';
  threshold?: number;
  cohortIds?: number[];
  siteIds?: number[];
}

/** A monthly 500 MB scheme starting a year ago, unless told otherwise. */
export async function makeScheme(t: TestApp, coordinator: User, programmeId: number, terms: SchemeTerms = {}) {
  const yearAgo = new Date();
  yearAgo.setUTCFullYear(yearAgo.getUTCFullYear() - 1);
  return createScheme(t.em(), toActor(coordinator), programmeId, {
    name: terms.name ?? `Data ${Math.random().toString(36).slice(2, 8)}`,
    unit: terms.unit ?? 'megabytes',
    currency: terms.currency ?? null,
    amount: terms.amount ?? 500,
    period: terms.period ?? 'monthly',
    startsOn: terms.startsOn ?? `${yearAgo.toISOString().slice(0, 7)}-01`,
    budget: terms.budget ?? 100_000,
    rule: terms.rule ?? 'enrolled',
    threshold: terms.threshold ?? 1,
    cohortIds: terms.cohortIds ?? [],
    siteIds: terms.siteIds ?? [],
    note: undefined,
  });
}

export async function givePhone(t: TestApp, user: User, phone: string | null) {
  await t.em().nativeUpdate(User, { id: user.id }, { phone });
  user.phone = phone;
}

/** A page's words as a reader sees them: tags, bidi isolation marks and entities gone. */
export function text(html: string) {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/[\u2066-\u2069]/g, '')
    .replace(/\s+/g, ' ');
}

export const thisMonth = () => `${new Date().toISOString().slice(0, 7)}-01`;
export const keyOf = (html: string) => /name="key" value="([^"]+)"/.exec(html)?.[1];
