/** The demo programme's allowance: 500 MB a month for every active learner, issuable at once. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { type User, toActor } from '../accounts/index.ts';
import type { Programme } from '../programmes/index.ts';
import { monthOf, todayIn } from './periods.ts';
import { createScheme } from './schemes.service.ts';

export async function seedDemoScheme(em: EntityManager, coordinator: User, programme: Programme) {
  const actor = toActor(coordinator);
  await createScheme(em, actor, programme.id, {
    name: 'Monthly mobile data',
    unit: 'megabytes',
    currency: null,
    amount: 500,
    period: 'monthly',
    // From the first of this month, so the coordinator can preview and issue the current period.
    startsOn: monthOf(todayIn(actor.timeZone)).start,
    budget: 50_000,
    rule: 'enrolled',
    threshold: 1,
    cohortIds: [],
    siteIds: [],
    note: 'Demo scheme',
  });
}
