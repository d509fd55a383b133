/**
 * Languages of the school. Every string a person sees comes from locales/<lang>/<namespace>.json.
 * The language is chosen from, in order: the signed-in user's setting, the `lang` cookie (set by
 * the switcher), the browser's Accept-Language, then the default.
 */
import i18next, { type i18n, type TFunction } from 'i18next';
import FsBackend from 'i18next-fs-backend';
import { LanguageDetector, handle } from 'i18next-http-middleware';
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

export function i18nMiddleware(instance: i18n): RequestHandler {
  return handle(instance) as unknown as RequestHandler;
}

export type { TFunction };
