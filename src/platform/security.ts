/**
 * The security baseline every request passes through: headers (helmet, strict CSP with no inline
 * script), sessions kept in PostgreSQL, CSRF tokens on every state-changing request, no-store on
 * signed-in pages.
 */
import connectPgSimple from 'connect-pg-simple';
import { csrfSync } from 'csrf-sync';
import type { Request, RequestHandler } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import type pg from 'pg';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import { AppError } from './errors.ts';
import { preparingPool } from './prepared.ts';

declare module 'express-session' {
  interface SessionData {
    userId: number;
    /** Where to go after signing in. */
    returnTo: string;
    /** Flash message key shown once on the next page. */
    notice: { key: string; vars?: Record<string, unknown> };
    /** The UTC day the session was last extended. */
    seenOn: string;
  }
}

export const SESSION_COOKIE = 'dars.sid';
export const SESSION_TABLE = 'session';

export interface SecurityOptions {
  secret: string;
  tls: boolean;
  /** Origins allowed to frame-embed or be framed (the SCORM content origin). */
  frameSources?: string[];
}

export function securityHeaders(opts: SecurityOptions): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'media-src': ["'self'"],
        'font-src': ["'self'"],
        'connect-src': ["'self'"],
        'frame-src': ["'self'", ...(opts.frameSources ?? [])],
        'worker-src': ["'self'"],
        'manifest-src': ["'self'"],
        'object-src': ["'none'"],
        'base-uri': ["'none'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'self'"],
        ...(opts.tls ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    // HSTS on plain HTTP would lock a LAN install out of itself.
    strictTransportSecurity: opts.tls ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
  });
}

export function sessions(pool: pg.Pool, opts: SecurityOptions): RequestHandler[] {
  const Store = connectPgSimple(session);
  const middleware = session({
    name: SESSION_COOKIE,
    secret: opts.secret,
    // No touch on every request: a page view must not cost a database write. The session is
    // extended once a day instead (below), which re-sends the cookie with a new expiry.
    // Its statements prepared: every signed-in request reads its session.
    store: new Store({ pool: preparingPool(pool), tableName: SESSION_TABLE, createTableIfMissing: false, pruneSessionInterval: 60 * 15, disableTouch: true }),
    resave: false,
    saveUninitialized: false,
    rolling: false,
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: opts.tls,
      // Shared phones are common: two weeks unused and the learner signs in again.
      maxAge: 14 * 24 * 60 * 60 * 1000,
    },
  });
  const extendDaily: RequestHandler = (req, _res, next) => {
    const today = new Date().toISOString().slice(0, 10);
    if (req.session?.userId && req.session.seenOn !== today) {
      req.session.seenOn = today;
      req.session.touch();
    }
    next();
  };
  return [middleware, extendDaily] as RequestHandler[];
}

/** Ends every session of one user: on logout-everywhere, password reset and deactivation. */
export async function endSessionsOf(pool: pg.Pool, userId: number) {
  await pool.query(`DELETE FROM ${SESSION_TABLE} WHERE (sess->>'userId') = $1`, [String(userId)]);
}

function isMultipart(req: Request) {
  return (req.headers['content-type'] ?? '').startsWith('multipart/form-data');
}

/**
 * Synchroniser-token CSRF: the token lives in the server-side session, so there is no second
 * cookie to get wrong. Forms send it as `_csrf`; scripts as `x-csrf-token`. A multipart form
 * carries it in its action URL, because the body is only read later by the upload handler.
 */
export function csrf(exempt: (req: Request) => boolean = () => false) {
  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    size: 24, // 192 bits is plenty, and every byte of every page costs a learner's data
    getTokenFromRequest: (req) => {
      const fromBody = (req.body as Record<string, unknown> | undefined)?._csrf;
      if (typeof fromBody === 'string') return fromBody;
      const header = req.headers['x-csrf-token'];
      if (typeof header === 'string') return header;
      const q = req.query._csrf;
      return isMultipart(req) && typeof q === 'string' ? q : undefined;
    },
  });
  const protect: RequestHandler = (req, res, next) => (exempt(req) ? next() : csrfSynchronisedProtection(req, res, next));
  /** Exposes `csrfToken` to views; the token is only made (and the session saved) when a page renders. */
  const expose: RequestHandler = (req, res, next) => {
    Object.defineProperty(res.locals, 'csrfToken', { enumerable: true, configurable: true, get: () => generateToken(req) });
    next();
  };
  return { protect, expose };
}

export function isCsrfError(err: unknown) {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === 'EBADCSRFTOKEN';
}

/** Every signed-in page is private: never kept by the browser or any proxy. */
export const noStoreWhenSignedIn: RequestHandler = (req, res, next) => {
  if (req.session?.userId) res.set('Cache-Control', 'no-store');
  next();
};

/**
 * A last net under every form: text with a NUL byte (which PostgreSQL refuses) or bytes that were
 * not UTF-8 is answered with a clear 400 page instead of reaching the database. Forms built with
 * the `field` helpers say the same beside the field first.
 */
export const rejectUnstorableText: RequestHandler = (req, _res, next) => {
  const bad = (value: unknown): boolean =>
    typeof value === 'string' ? /[\u0000\uFFFD]/.test(value) : Array.isArray(value) ? value.some(bad) : !!value && typeof value === 'object' && Object.values(value).some(bad);
  if (invalidUtf8Bodies.has(req) || bad(req.body) || bad(req.query)) throw new AppError('bad_text', 400, 'errors:badText.body');
  next();
};

const invalidUtf8Bodies = new WeakSet<object>();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The form parser's `verify` hook: percent-decodes every value of a urlencoded body and marks the
 * request when the bytes are not UTF-8 (the parser itself would keep such values as raw "%E9").
 */
export function markInvalidUtf8(req: object, _res: unknown, raw: Buffer) {
  for (const pair of raw.toString('latin1').split('&')) {
    const bytes = Buffer.from(pair.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    try {
      strictUtf8.decode(bytes);
    } catch {
      invalidUtf8Bodies.add(req);
      return;
    }
  }
}

export function rateLimiter(pool: pg.Pool, keyPrefix: string, points: number, durationSeconds: number) {
  return new RateLimiterPostgres({
    storeClient: pool,
    storeType: 'pool',
    tableName: 'rate_limits',
    tableCreated: true,
    keyPrefix,
    points,
    duration: durationSeconds,
    clearExpiredByTimeout: false,
  });
}
