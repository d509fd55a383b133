/**
 * The house rules of STYLE.md, checked: slices meet only through their index.ts, platform knows no
 * slice, only app.ts mounts routes, templates never print user data unescaped, and the migrations
 * build exactly the schema the entities describe.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, type TestApp } from './support/app.ts';

const root = path.resolve(import.meta.dirname, '..');
const src = path.join(root, 'src');
const walk = (dir: string, ext: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p, ext) : p.endsWith(ext) ? [p] : [];
  });
const slices = readdirSync(src).filter((n) => statSync(path.join(src, n)).isDirectory() && !['platform', 'cli', 'demo'].includes(n));
const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);

describe('architecture', () => {
  it('when a slice uses another slice, then only through its index.ts', () => {
    const bad: string[] = [];
    for (const slice of slices) {
      for (const file of walk(path.join(src, slice), '.ts')) {
        for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
          const target = path.relative(src, path.resolve(path.dirname(file), spec));
          const [top, ...rest] = target.split(path.sep);
          if (top && top !== slice && slices.includes(top) && rest.join('/') !== 'index.ts') bad.push(`${path.relative(root, file)} → ${spec}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('when platform code imports, then never from a slice', () => {
    const bad = walk(path.join(src, 'platform'), '.ts').flatMap((file) =>
      importsOf(file)
        .filter((s) => s.startsWith('.') && slices.includes(path.relative(src, path.resolve(path.dirname(file), s)).split(path.sep)[0]!))
        .map((s) => `${path.relative(root, file)} → ${s}`),
    );
    expect(bad).toEqual([]);
  });

  it("when anything but app.ts imports a slice's routes, then that is a breach", () => {
    const bad = walk(src, '.ts')
      .filter((f) => f !== path.join(src, 'app.ts') && !f.endsWith('index.ts'))
      .flatMap((file) => {
        const text = readFileSync(file, 'utf8');
        const own = path.relative(src, file).split(path.sep)[0];
        return [...text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)]
          .filter((m) => /\b\w+Routes\b/.test(m[1]!) && !m[2]!.includes(`/${own}/`) && !m[2]!.startsWith('./'))
          .map((m) => `${path.relative(root, file)} imports ${m[1]!.trim()}`);
      });
    expect(bad).toEqual([]);
  });

  it('when a template prints with {{{ }}}, then only the layout body or server-sanitised *Html fields', () => {
    const bad: string[] = [];
    for (const file of walk(path.join(root, 'views'), '.hbs')) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\{\{\{\s*([^}\s]+)[^}]*\}\}\}/g)) {
        const name = m[1]!;
        if (name === 'body' && file.endsWith(path.join('layouts', 'main.hbs'))) continue;
        if (/Html$/.test(name)) continue;
        bad.push(`${path.relative(root, file)}: {{{${name}}}}`);
      }
    }
    expect(bad).toEqual([]);
  });

  describe('schema', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await bootApp();
    });
    afterAll(() => t.close());

    it('when every migration has run, then the database matches the entities exactly', async () => {
      const diff = await t.orm.schema.getUpdateSchemaSQL({ wrap: false });
      expect(diff.trim()).toBe('');
    });
  });
});
