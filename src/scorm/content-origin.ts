/**
 * The content origin: a second host name, served by the same process on its own port, from which
 * package files and the player are delivered. Package scripts run there, so they never share an
 * origin with the school: they cannot read its pages, and its session cookie (set for the school's
 * host name) is never sent to them. Nothing here reads cookies or sessions; the player proves who
 * it plays for with a launch token, package files with a file key.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import compression from 'compression';
import express, { type Express, type RequestHandler, type Response } from 'express';
import type { i18n } from 'i18next';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import type { AssetTable } from '../platform/assets.ts';
import { projectRoot } from '../platform/database.ts';
import { isLanguage } from '../platform/i18n.ts';
import type { Logger } from '../platform/logger.ts';
import { setupViews } from '../platform/views.ts';
import { ALLOWED_EXTENSIONS } from './package-archive.ts';
import type { TokenSigner } from './launch-token.ts';
import { packageDir, playerLaunch } from './scorm.service.ts';
import { ScormPackage } from './scorm.entity.ts';

/** Counts what the content origin sends on a learner's behalf (their data allowance). */
export interface ByteMeter {
  record(learnerId: number, bytes: number): unknown;
}

export interface ContentOriginDeps {
  orm: MikroORM;
  logger: Logger;
  i18n: i18n;
  signer: TokenSigner;
  appOrigin: string;
  contentOrigin: string;
  dataDir: string;
  meter?: ByteMeter;
}

/** Types by extension, for exactly the extensions a package may hold; `nosniff` makes the browser keep to them. */
const MIME: Record<string, string> = {
  html: 'text/html', htm: 'text/html', xhtml: 'application/xhtml+xml', js: 'text/javascript', mjs: 'text/javascript', css: 'text/css',
  json: 'application/json', map: 'application/json', xml: 'application/xml', xsd: 'application/xml', dtd: 'application/xml-dtd',
  txt: 'text/plain', md: 'text/plain', csv: 'text/csv', vtt: 'text/vtt', srt: 'text/plain', htc: 'text/x-component',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', svg: 'image/svg+xml', webp: 'image/webp', avif: 'image/avif',
  bmp: 'image/bmp', ico: 'image/x-icon', cur: 'image/x-icon',
  mp3: 'audio/mpeg', m4a: 'audio/mp4', aac: 'audio/aac', oga: 'audio/ogg', ogg: 'audio/ogg', opus: 'audio/ogg', wav: 'audio/wav', weba: 'audio/webm',
  mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', ogv: 'video/ogg', m3u8: 'application/vnd.apple.mpegurl',
  glb: 'model/gltf-binary', gltf: 'model/gltf+json', ktx2: 'image/ktx2', basis: 'application/octet-stream',
  woff: 'font/woff', woff2: 'font/woff2', ttf: 'font/ttf', otf: 'font/otf', eot: 'application/vnd.ms-fontobject',
  pdf: 'application/pdf', swf: 'application/x-shockwave-flash', flv: 'video/x-flv', wasm: 'application/wasm',
  doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel', xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ppt: 'application/vnd.ms-powerpoint', pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text', ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation', rtf: 'application/rtf', epub: 'application/epub+zip', zip: 'application/zip',
};

export function mimeOf(file: string): string | undefined {
  const ext = path.extname(file).slice(1).toLowerCase();
  return ALLOWED_EXTENSIONS.has(ext) ? MIME[ext] : undefined;
}

/** How long a file URL stays the same (the file key's week): the browser may keep the file that long. */
const FILE_MAX_AGE = 7 * 24 * 60 * 60;

export function createContentOrigin(deps: ContentOriginDeps): Express {
  const { orm, signer, logger } = deps;
  if (new URL(deps.appOrigin).hostname === new URL(deps.contentOrigin).hostname) {
    // Cookies are scoped to a host name, whatever the port: one host would hand the session to package scripts.
    throw new Error('Invalid configuration:\n  CONTENT_ORIGIN: must use a different host name from APP_ORIGIN');
  }
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', 'strong');
  const player = playerAssets();
  setupViews(app, player);

  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cross-Origin-Opener-Policy': 'same-origin' });
    next();
  });
  app.use(meterTo(deps));
  app.use(compression({ threshold: 512 }));
  app.use(player.router);

  app.get('/play/:token', async (req, res) => {
    const language = isLanguage(req.query.lng) ? req.query.lng : 'en';
    const t = deps.i18n.getFixedT(language, 'scorm');
    const claims = signer.readLaunchToken(req.params.token);
    const launch = claims ? await playerLaunch(orm.em.fork(), claims) : null;
    res.set({
      'Cache-Control': 'no-store',
      'Content-Security-Policy': [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "frame-src 'self'",
        `connect-src ${deps.appOrigin}`,
        `frame-ancestors ${deps.appOrigin}`,
        "base-uri 'none'",
        "form-action 'none'",
      ].join('; '),
    });
    const dir = deps.i18n.dir(language);
    if (!claims || !launch) {
      return res.status(claims ? 404 : 401).render('scorm/player-closed', { layout: false, t, lang: language, dir, message: t(claims ? 'player.missing' : 'player.expired') });
    }
    res.locals.meterLearner = launch.learnerId;
    const fileBase = `/p/${launch.packageId}/${signer.fileKey(launch.packageId, launch.learnerId)}/`;
    const config = {
      version: launch.version,
      commitUrl: `${deps.appOrigin}/scorm/commit`,
      appOrigin: deps.appOrigin,
      token: req.params.token,
      learner: launch.learnerId,
      item: launch.itemId,
      session: launch.sessionId,
      sessionSeq: launch.sessionSeq,
      lastSession: launch.lastSession,
      lastSeq: launch.lastSeq,
      launchUrl: fileBase + launch.launchUrl,
      data: launch.data,
      lms: launch.lms,
      text: { offline: t('player.offline'), refused: t('player.refused'), expired: t('player.expired') },
    };
    res.render('scorm/player', {
      layout: false,
      t,
      lang: language,
      dir,
      title: launch.title,
      runtime: launch.version === '1.2' ? 'scorm12.min.js' : 'scorm2004.min.js',
      // Escaped by the template into an attribute and read back with JSON.parse: no inline script needed.
      launch: JSON.stringify(config),
    });
  });

  const contentIds = new Map<number, string>();
  app.get('/p/:packageId/:key/*path', async (req, res) => {
    const packageId = Number(req.params.packageId);
    const learnerId = Number.isSafeInteger(packageId) && packageId > 0 ? signer.readFileKey(packageId, req.params.key) : null;
    if (!learnerId) return res.status(403).type('text/plain').send('403');
    const segments = req.params.path as unknown as string[];
    if (!segments.length || segments.some((s) => !s || s === '.' || s === '..' || /[\\\u0000-\u001f\u007f]/.test(s))) return res.status(404).type('text/plain').send('404');
    const type = mimeOf(segments.at(-1)!);
    if (!type) return res.status(404).type('text/plain').send('404');
    let contentId = contentIds.get(packageId);
    if (!contentId) {
      const pkg = await orm.em.fork().findOne(ScormPackage, packageId, { fields: ['contentId'] });
      if (!pkg) return res.status(404).type('text/plain').send('404');
      contentId = pkg.contentId;
      // Packages never change once stored; a small memory of them spares the database on every file.
      if (contentIds.size > 1000) contentIds.clear();
      contentIds.set(packageId, contentId);
    }
    const root = packageDir(deps.dataDir, contentId);
    const file = path.resolve(root, ...segments);
    if (!file.startsWith(root + path.sep) || !(await stat(file).then((s) => s.isFile(), () => false))) return res.status(404).type('text/plain').send('404');
    res.locals.meterLearner = learnerId;
    res.set({
      'Content-Type': type,
      'Cache-Control': `private, max-age=${FILE_MAX_AGE}, immutable`,
      // Only the school (through the player) may frame package pages.
      'Content-Security-Policy': `frame-ancestors 'self' ${deps.appOrigin}`,
    });
    res.sendFile(file, { dotfiles: 'allow', cacheControl: false, lastModified: true });
  });

  app.use((_req, res) => res.status(404).type('text/plain').send('404'));
  app.use(((err, req, res, _next) => {
    if (res.headersSent) return req.socket.destroy();
    logger.error({ err, url: req.originalUrl }, 'content origin error');
    res.status(500).type('text/plain').send('500');
  }) as express.ErrorRequestHandler);
  return app;
}

/**
 * Bytes sent for a learner: what left the socket between the start and the end of the response
 * (headers, compressed body). Browsers send one request at a time per connection, so the
 * difference belongs to this response.
 */
function meterTo(deps: ContentOriginDeps): RequestHandler {
  return (req, res, next) => {
    if (!deps.meter) return next();
    const before = req.socket.bytesWritten;
    res.on('finish', () => {
      const learner = res.locals.meterLearner as number | undefined;
      const bytes = req.socket.bytesWritten - before;
      if (!learner || bytes <= 0) return;
      Promise.resolve(deps.meter!.record(learner, bytes)).catch((err: unknown) => deps.logger.error({ err, learner }, 'metering failed'));
    });
    next();
  };
}

/**
 * The player's own files: scorm-again's two runtimes (566 KB for 2004 — a learner on 2G must not
 * pay that raw), our player script and style. Compressed once with brotli and gzip, kept in
 * memory, served under content-hashed names for a year.
 */
function playerAssets(): AssetTable & { router: express.Router } {
  const scormAgain = path.join(projectRoot, 'node_modules', 'scorm-again', 'dist');
  const own = path.join(projectRoot, 'views', 'scorm', 'player');
  const sources: Record<string, string> = {
    'scorm12.min.js': path.join(scormAgain, 'scorm12.min.js'),
    'scorm2004.min.js': path.join(scormAgain, 'scorm2004.min.js'),
    'dars-player.js': path.join(own, 'dars-player.js'),
    'dars-player.css': path.join(own, 'dars-player.css'),
  };
  type Compiled = { raw: Buffer; type: string; br?: Buffer; brotling?: Promise<void>; gz?: Promise<Buffer> };
  const byHashed = new Map<string, Compiled>();
  const urls = new Map<string, string>();
  for (const [name, file] of Object.entries(sources)) {
    // The source map comment would only make developer tools ask for a file that is not served.
    const raw = Buffer.from(readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'));
    const hash = createHash('sha256').update(raw).digest('hex').slice(0, 10);
    const ext = path.extname(name);
    const hashed = `${path.basename(name, ext)}.${hash}${ext}`;
    byHashed.set(hashed, { raw, type: ext === '.css' ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8' });
    urls.set(name, `/player/${hashed}`);
  }
  const br = promisify(brotliCompress);
  const gz = promisify(gzip);
  /**
   * Brotli at its best saves a learner a quarter of the 2004 runtime over gzip, but takes seconds
   * of CPU: it is made once in the background, and until it is ready gzip (milliseconds) answers.
   */
  const brotliOf = (asset: Compiled) => {
    asset.brotling ??= br(asset.raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: asset.raw.length } }).then(
      (out) => void (asset.br = out),
      () => undefined,
    );
    return asset.br;
  };
  const router = express.Router();
  router.get('/player/:file', async (req, res: Response, next) => {
    const asset = byHashed.get(req.params.file);
    if (!asset) return next();
    const accepts = String(req.headers['accept-encoding'] ?? '');
    res.set({ 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=31536000, immutable', Vary: 'Accept-Encoding' });
    const brotli = /\bbr\b/.test(accepts) ? brotliOf(asset) : undefined;
    if (brotli) return res.set('Content-Encoding', 'br').send(brotli);
    if (/\bgzip\b/.test(accepts)) {
      asset.gz ??= gz(asset.raw, { level: 9 });
      return res.set('Content-Encoding', 'gzip').send(await asset.gz);
    }
    res.send(asset.raw);
  });
  return {
    url: (name) => {
      const u = urls.get(name);
      if (!u) throw new Error(`Unknown player asset ${name}`);
      return u;
    },
    router,
  };
}
