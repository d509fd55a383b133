/**
 * Static assets (one CSS file, a few small enhancement scripts) served under content-hashed names,
 * so a phone keeps them for a year and never asks again until they change.
 */
import express, { type Router } from 'express';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './database.ts';

export const assetsPath = path.join(projectRoot, 'views', 'assets');

export interface AssetTable {
  /** `dars.css` → `/assets/dars.3f9a1c2b.css` */
  url: (name: string) => string;
  router: Router;
}

export function buildAssets(extra: Record<string, string> = {}): AssetTable {
  const files: Record<string, string> = { ...extra };
  for (const name of readdirSync(assetsPath)) files[name] = path.join(assetsPath, name);
  const byHashed = new Map<string, string>();
  const urls = new Map<string, string>();
  for (const [name, file] of Object.entries(files)) {
    const hash = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 10);
    const ext = path.extname(name);
    const hashed = `${path.basename(name, ext)}.${hash}${ext}`;
    byHashed.set(hashed, file);
    urls.set(name, `/assets/${hashed}`);
  }
  const router = express.Router();
  router.get('/assets/:file', (req, res, next) => {
    const file = byHashed.get(req.params.file);
    if (!file) return next();
    res.sendFile(file, { immutable: true, maxAge: '365d', dotfiles: 'deny' });
  });
  // A service worker is known by its URL, so its script cannot take a hashed name: it is served at
  // the root and revalidated on every check (an unchanged script costs a 304). Its whole-line
  // comments are for the people who read the file, not for every phone that installs it.
  const worker = readFileSync(path.join(assetsPath, 'sw.js'), 'utf8')
    .split('\n')
    .filter((line) => !/^\s*\/\//.test(line))
    .join('\n');
  router.get('/sw.js', (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('text/javascript').send(worker);
  });
  return {
    url: (name) => {
      const u = urls.get(name);
      if (!u) throw new Error(`Unknown asset ${name}`);
      return u;
    },
    router,
  };
}
