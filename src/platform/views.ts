/**
 * Handlebars views. Views get plain view-models; every string goes through the `t` helper.
 * Handlebars escapes all output; `{{{ }}}` is kept for HTML the server made and sanitised itself.
 */
import { create } from 'express-handlebars';
import type { Express } from 'express';
import type { HelperOptions } from 'handlebars';
import path from 'node:path';
import { projectRoot } from './database.ts';
import type { AssetTable } from './assets.ts';

export const viewsPath = path.join(projectRoot, 'views');

type Root = { t?: (key: string, vars?: Record<string, unknown>) => string; timeZone?: string; language?: string };

function root(options: HelperOptions): Root {
  return (options.data?.root ?? {}) as Root;
}

export function setupViews(app: Express, assets: AssetTable) {
  const hbs = create({
    extname: '.hbs',
    defaultLayout: 'main',
    layoutsDir: path.join(viewsPath, 'layouts'),
    partialsDir: path.join(viewsPath, 'partials'),
    helpers: {
      /** {{t "ns:key" name=value}} */
      t(key: string, options: HelperOptions) {
        const t = root(options).t;
        return t ? t(key, isolateVariables(options.hash)) : key;
      },
      asset: (name: string) => assets.url(name),
      eq: (a: unknown, b: unknown) => a === b,
      /** Builds a translation key from parts: (concat "accounts:role." role) */
      concat: (...args: unknown[]) => args.slice(0, -1).join(''),
      not: (a: unknown) => !a,
      or: (...args: unknown[]) => args.slice(0, -1).some(Boolean),
      and: (...args: unknown[]) => args.slice(0, -1).every(Boolean),
      /** A date and time in the viewer's time zone and language. */
      dateTime(value: Date | string | null | undefined, options: HelperOptions) {
        if (!value) return '';
        const r = root(options);
        return formatDateTime(new Date(value), r.language ?? 'en', r.timeZone ?? 'UTC');
      },
      date(value: Date | string | null | undefined, options: HelperOptions) {
        if (!value) return '';
        const r = root(options);
        const language = r.language ?? 'en';
        const timeZone = r.timeZone ?? 'UTC';
        return kept(`d|${language}|${timeZone}`, () => new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeZone })).format(new Date(value));
      },
      number(value: number, options: HelperOptions) {
        const language = root(options).language ?? 'en';
        return kept(`n|${language}`, () => new Intl.NumberFormat(language)).format(value);
      },
      /** Byte counts as a person reads them: "1.8 MB". */
      bytes(value: number, options: HelperOptions) {
        return formatBytes(value, root(options).language ?? 'en');
      },
      selected: (a: unknown, b: unknown) => (String(a) === String(b) ? 'selected' : ''),
      checked: (a: unknown) => (a ? 'checked' : ''),
    },
  });
  // express-handlebars gathers every partial again for every page (each file's path resolved and
  // looked up in its cache, a promise apiece), even with the view cache on. With the cache on
  // they cannot change while the school runs, so they are gathered once.
  const gatherPartials = hbs.getPartials.bind(hbs);
  let partials: ReturnType<typeof gatherPartials> | undefined;
  hbs.getPartials = (options = {}) => {
    if (!options.cache) return gatherPartials(options);
    return (partials ??= gatherPartials(options).catch((err: unknown) => {
      partials = undefined;
      throw err;
    }));
  };
  app.engine('hbs', hbs.engine);
  app.set('view engine', 'hbs');
  // Compiled templates are kept in every environment: a school run with a plain `npm start`
  // must not recompile every page for every learner. Restart to see template edits.
  app.enable('view cache');
  app.set('views', viewsPath);
}

/**
 * Text put into a sentence that keeps its own direction: an Arabic name inside an English sentence,
 * or a code that starts with digits inside an Arabic one (unisolated, its digits would be taken as
 * Arabic numbers and drawn after its letters). Unicode isolates (FSI … PDI), as <bdi> does for markup.
 */
export function isolate(text: string): string {
  return `\u2068${text}\u2069`;
}

/** The view helper `t` isolates every string it puts into a sentence. */
function isolateVariables(hash: Record<string, unknown>) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(hash)) out[k] = typeof v === 'string' ? isolate(v) : v;
  return out;
}

export function formatDateTime(d: Date, language: string, timeZone: string) {
  return kept(`dt|${language}|${timeZone}`, () => new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short', timeZone })).format(d);
}

export function formatBytes(n: number, language: string) {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = v < 10 && i > 0 ? 1 : 0;
  return kept(`b|${language}|${i}|${digits}`, () => new Intl.NumberFormat(language, { style: 'unit', unit: units[i], unitDisplay: 'short', maximumFractionDigits: digits })).format(v);
}

/**
 * An Intl formatter costs far more to make than to use, and one can serve every page: each is made
 * once per language and options (and time zone) and kept. Bounded, since time zones are chosen by people.
 */
const formatters = new Map<string, { format(v: number | Date): string }>();
function kept<F extends { format(v: never): string }>(key: string, make: () => F): F {
  let f = formatters.get(key) as F | undefined;
  if (!f) {
    f = make();
    if (formatters.size < 5000) formatters.set(key, f as unknown as { format(v: number | Date): string });
  }
  return f;
}
