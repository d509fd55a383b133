import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymous, post, signIn } from '../support/agent.ts';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeUser } from '../support/factories.ts';
import { LANGUAGES, localesPath } from '../../src/platform/i18n.ts';

let t: TestApp;
beforeAll(async () => {
  t = await bootApp();
});
afterAll(() => t.close());

describe('languages', () => {
  it.each([
    ['ar', 'rtl'],
    ['fa', 'rtl'],
    ['ps', 'rtl'],
    ['el', 'ltr'],
    ['uk', 'ltr'],
  ])('when the switcher chooses %s, then pages are served translated with dir="%s"', async (lng, dir) => {
    const agent = await anonymous(t.app);
    const res = await post(agent, '/language', { lng, next: '/login' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login');
    const page = await agent.get('/login');
    expect(page.text).toContain(`<html lang="${lng}" dir="${dir}">`);
    expect(page.text).not.toContain('<h1>Sign in</h1>');
  });

  it("when a signed-in user has a language in their profile, then it wins over the browser's", async () => {
    const learner = await makeUser(t.em(), 'learner', { language: 'fa' });
    const agent = await signIn(t.app, learner.username);
    const page = await agent.get('/').set('Accept-Language', 'en-GB,en');
    expect(page.text).toContain('<html lang="fa" dir="rtl">');
  });

  it('when the browser asks for Greek and nothing else is set, then the page is Greek', async () => {
    const res = await request(t.app).get('/login').set('Accept-Language', 'el-GR,el;q=0.9,en;q=0.5');
    expect(res.text).toContain('<html lang="el" dir="ltr">');
  });

  it('when the switcher is sent a language Dars does not have or an outside address, then it stays safe', async () => {
    const agent = await anonymous(t.app);
    const res = await post(agent, '/language', { lng: 'xx', next: '//evil.example/' });
    expect(res.headers.location).toBe('/');
  });
});

/** Keys of a nested locale object, with i18next plural suffixes folded to their base key. */
function keys(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k.replace(/_(zero|one|two|few|many|other)$/, '')}`],
  );
}
const vars = (s: string) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();
function leaves(obj: Record<string, unknown>, prefix = ''): [string, string][] {
  return Object.entries(obj).flatMap(([k, v]) => (v && typeof v === 'object' ? leaves(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, String(v)] as [string, string]]));
}

describe('translations', () => {
  const namespaces = readdirSync(path.join(localesPath, 'en')).filter((f) => f.endsWith('.json'));
  const load = (lng: string, ns: string) => JSON.parse(readFileSync(path.join(localesPath, lng, ns), 'utf8')) as Record<string, unknown>;

  it.each(LANGUAGES.filter((l) => l !== 'en'))('when a page is shown in %s, then every English key has a translation with the same variables', (lng) => {
    const problems: string[] = [];
    for (const ns of namespaces) {
      let translated: Record<string, unknown>;
      try {
        translated = load(lng, ns);
      } catch {
        problems.push(`${lng}/${ns} is missing`);
        continue;
      }
      const have = new Set(keys(translated));
      for (const key of new Set(keys(load('en', ns)))) if (!have.has(key)) problems.push(`${lng}/${ns}: ${key}`);
      const theirs = new Map(leaves(translated));
      for (const [key, text] of leaves(load('en', ns))) {
        const other = theirs.get(key) ?? theirs.get(key.replace(/_one$/, '_other'));
        if (other !== undefined && vars(other).join() !== vars(text).join() && !/_(one|zero|two)$/.test(key)) problems.push(`${lng}/${ns}: ${key} variables ${vars(other)} ≠ ${vars(text)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('when the views are read, then every {{t "ns:key"}} they use exists in English', () => {
    const missing: string[] = [];
    const viewsDir = path.join(localesPath, '..', 'views');
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.hbs') ? [path.join(dir, e.name)] : []));
    for (const file of walk(viewsDir)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:\{\{|\()t "([a-z]+):([\w.]+)"/g)) {
        const en = new Set(keys(load('en', `${m[1]}.json`)));
        if (!en.has(m[2]!)) missing.push(`${path.relative(viewsDir, file)}: ${m[1]}:${m[2]}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
