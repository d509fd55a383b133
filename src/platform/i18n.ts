/**
 * Languages of the school. Every string a person sees comes from locales/<lang>/<namespace>.json.
 * The language is chosen from, in order: the signed-in user's setting, the `lang` cookie (set by
 * the switcher), the browser's Accept-Language, then the default.
 */
import i18next, { type i18n, type TFunction } from 'i18next';
import FsBackend from 'i18next-fs-backend';
import { LanguageDetector } from 'i18next-http-middleware';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { projectRoot } from './database.ts';

export const LANGUAGES = ['en', 'el', 'ar', 'fa', 'id', 'fr', 'uk', 'ps'] as const;
export type Language = (typeof LANGUAGES)[number];
export const LANGUAGE_COOKIE = 'lang';

/** Each language's name in itself, for the switcher. */
export const LANGUAGE_NAMES: Record<Language, string> = {
  en: 'English',
  el: 'Ελληνικά',
  ar: 'العربية',
  fa: 'فارسی',
  id: 'Bahasa Indonesia',
  fr: 'Français',
  uk: 'Українська',
  ps: 'پښتو',
};

export const localesPath = path.join(projectRoot, 'locales');

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

export function namespaces(): string[] {
  return readdirSync(path.join(localesPath, 'en'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5));
}

export async function createI18n(defaultLanguage: string): Promise<i18n> {
  const instance = i18next.createInstance();
  const detector = new LanguageDetector();
  detector.addDetector({
    name: 'userSetting',
    lookup: (req: { res?: { locals?: { currentUser?: { language?: string | null } } } }) =>
      req.res?.locals?.currentUser?.language ?? undefined,
  });
  await instance
    .use(FsBackend)
    .use(detector)
    .init({
      initAsync: false,
      preload: [...LANGUAGES],
      supportedLngs: [...LANGUAGES],
      fallbackLng: isLanguage(defaultLanguage) ? defaultLanguage : 'en',
      load: 'languageOnly',
      ns: namespaces(),
      defaultNS: 'common',
      backend: { loadPath: path.join(localesPath, '{{lng}}/{{ns}}.json') },
      interpolation: { escapeValue: false }, // handlebars escapes
      returnNull: false,
      detection: {
        order: ['userSetting', 'cookie', 'header'],
        lookupCookie: LANGUAGE_COOKIE,
        caches: false,
        // Browsers send regional tags (el-GR, ar-SY); the school speaks the language, not the region.
        convertDetectedLanguage: (lng: string) => lng.split('-')[0]!.toLowerCase(),
      },
    });
  return instance;
}

type Translate = (key: string, vars?: Record<string, unknown>) => string;

/**
 * Chooses the language of each request (the detector set up in createI18n) and puts its `t`,
 * `language` and `languageDir` on res.locals, with a Content-Language header.
 *
 * i18next-http-middleware's `handle` clones the whole i18next instance for every request so that
 * the clone can change language; nothing here changes language mid-request, and every resource is
 * preloaded at start and never changes while the school runs. So each language gets one `t` made
 * once with i18next's getFixedT, and its direction, at start.
 */
export function i18nMiddleware(instance: i18n): RequestHandler {
  const detector = instance.services.languageDetector as { detect(req: unknown, res: unknown): string | undefined };
  const fallback = (instance.options.fallbackLng as string[])[0]!;
  const chosen = new Map<string, { t: Translate; dir: string }>(
    LANGUAGES.map((lng) => [lng, { t: remembered(instance.getFixedT(lng) as unknown as Translate), dir: instance.dir(lng) }]),
  );
  return (req, res, next) => {
    // The detector answers a supported language or the fallback.
    const lng = detector.detect(req, res) ?? fallback;
    const { t, dir } = chosen.get(lng) ?? chosen.get(fallback)!;
    res.locals.t = t;
    res.locals.language = lng;
    res.locals.languageDir = dir;
    res.setHeader('Content-Language', lng);
    next();
  };
}

/**
 * A page asks for the same words without variables many times ("Next", the menu): the answer is
 * the same for as long as the school runs, so it is looked up once. Bounded, in case a key were
 * ever made from input.
 */
function remembered(t: Translate): Translate {
  const plain = new Map<string, string>();
  return (key, vars) => {
    if (typeof key !== 'string' || (vars !== undefined && !isEmpty(vars))) return t(key, vars);
    let text = plain.get(key);
    if (text === undefined) {
      text = t(key);
      if (plain.size < 5000) plain.set(key, text);
    }
    return text;
  };
}

function isEmpty(o: object) {
  if (typeof o !== 'object' || o === null) return false;
  for (const _ in o) return false;
  return true;
}

export type { TFunction };
