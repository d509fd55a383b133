/**
 * Offline reading: the texts the lesson worker (views/assets/sw.js) shows when a phone has no
 * connection. The worker keeps them beside the lessons it keeps, in the learner's language, so a
 * kept lesson opened offline says so in words the learner reads. The worker itself is served by
 * src/platform/assets.ts at /sw.js; the pages load it through views/assets/offline.js.
 */
import express from 'express';

export const OFFLINE_TEXTS_PATH = '/offline/texts';

export function offlineRoutes({ stylesheet }: { stylesheet: string }) {
  const router = express.Router();
  router.get(OFFLINE_TEXTS_PATH, (_req, res) => {
    const t = res.locals.t as (key: string) => string;
    res.json({
      lang: res.locals.language,
      dir: res.locals.languageDir,
      css: stylesheet,
      copy: t('offline:copy'),
      queued: t('offline:queued'),
      sent: t('offline:sent'),
      failed: t('offline:failed'),
      missing: t('offline:missing'),
      page: t('offline:page'),
      kept: t('offline:kept'),
      none: t('offline:none'),
    });
  });
  return router;
}
