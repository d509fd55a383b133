import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, type Agent } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeSchool } from '../support/factories.ts';
import { listRoutes } from '../support/routes.ts';
import { isCsrfExempt } from '../../src/app.ts';
import { idorFixtures, type Attacker, type World } from './idor-fixtures.ts';

let t: TestApp;
let w: World;
const agents = {} as Record<Attacker, Agent>;
beforeAll(async () => {
  t = await bootApp();
  w = await makeSchool(t.em());
  for (const name of ['learnerA1', 'teacherA', 'coordinatorA'] as const) agents[name] = await signIn(t.app, w[name].username);
});
afterAll(() => t.close());

describe('nobody reaches a record of another class, programme or learner (IDOR matrix)', () => {
  it('when the router is read, then every route with a parameter has a fixture', () => {
    const routes = listRoutes(t.app).filter((r) => r.path.includes(':'));
    const known = new Set(idorFixtures.map((f) => f.route));
    const missing = routes.map((r) => `${r.method} ${r.path}`).filter((r) => !known.has(r));
    expect(missing, 'add these routes to tests/security/idor-fixtures.ts').toEqual([]);
  });

  it('when each attacker calls each such route with another programme\'s record, then it answers 403 or 404 and changes nothing', async () => {
    const routes = new Set(listRoutes(t.app).map((r) => `${r.method} ${r.path}`));
    const breaches: string[] = [];
    const before = await snapshot();
    for (const fixture of idorFixtures) {
      if (fixture.publicBecause || !routes.has(fixture.route)) continue;
      const [method, pattern] = fixture.route.split(' ') as [string, string];
      const params = await fixture.params!(w, t.em());
      const url = pattern.replace(/:(\w+)/g, (_, name: string) => String(params[name]));
      for (const who of fixture.attackers ?? (['learnerA1', 'teacherA', 'coordinatorA'] as const)) {
        const agent = agents[who];
        const res =
          method === 'GET'
            ? await agent.get(url)
            : isCsrfExempt({ method, path: url })
              ? await agent.post(url).send({})
              : await agent.post(url).type('form').send({ _csrf: agent.csrf, name: 'Intruded', username: w.learnerA1.username, active: 'no', role: 'admin' });
        if (![401, 403, 404].includes(res.status)) breaches.push(`${who} ${method} ${url} → ${res.status}`);
      }
    }
    expect(breaches).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });
});

/** Row counts of every table: an attack that was refused leaves them all as they were. */
async function snapshot() {
  const rows = (await t.em().execute(
    `SELECT relname AS table, n_live_tup::int AS rows FROM pg_stat_user_tables ORDER BY relname`,
  )) as { table: string }[];
  const counts: Record<string, number> = {};
  for (const { table } of rows) {
    if (table === 'session' || table === 'rate_limits') continue;
    const [c] = (await t.em().execute(`SELECT count(*)::int AS n FROM "${table}"`)) as { n: number }[];
    counts[table] = c!.n;
  }
  return counts;
}
