/**
 * Every setting Dars reads from the environment, validated once at start.
 * Each entry says its default and what it means; the README's table is built from the same words.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** Port the school listens on. 0 picks a free port (tests). */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Worker processes sharing the port (node:cluster). 1 = a single process. */
  WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** Address to bind; 0.0.0.0 to reach it from other devices on the network. */
  HOST: z.string().default('0.0.0.0'),
  /** External PostgreSQL. When unset, Dars runs its own embedded PostgreSQL under DATA_DIR/pg. */
  DATABASE_URL: z.url().optional(),
  /** Where the embedded database, uploaded files and generated secrets live. */
  DATA_DIR: z.string().default('data'),
  /** Signs session cookies. Generated once and kept in DATA_DIR/session-secret when unset outside production. */
  SESSION_SECRET: z.string().min(32).optional(),
  /** Set when the school is served over HTTPS: secure cookies, HSTS, upgrade-insecure-requests. */
  TRUST_TLS: bool.default(false),
  /** Number of proxies in front of Dars whose X-Forwarded-* headers are trusted. */
  TRUST_PROXY: z.coerce.number().int().min(0).default(0),
  /** Seed the demo programme and accounts on first start against an empty database. */
  DEMO: bool.default(true),
  /** pino log level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Language used when nothing else says which. */
  DEFAULT_LANGUAGE: z.string().default('en'),
  /** Largest accepted form body, in kilobytes (uploads have their own limits). */
  BODY_LIMIT_KB: z.coerce.number().int().positive().default(256),
  /** Failed logins allowed on one account before it is locked for LOGIN_LOCK_MINUTES. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().positive().default(5),
  LOGIN_LOCK_MINUTES: z.coerce.number().int().positive().default(15),
  /** Login attempts allowed from one address per 15 minutes. */
  LOGIN_RATE_PER_IP: z.coerce.number().int().positive().default(30),
  /** Largest CSV import of learners, in kilobytes. */
  CSV_LIMIT_KB: z.coerce.number().int().positive().default(1024),
  /**
   * The Ed25519 key that signs certificates: a PKCS#8 PEM (newlines may be written \n) or a 32-byte
   * seed in base64url. When unset, one is generated once into DATA_DIR/certificate-signing-key.pem.
   * Give every process and machine of one school the same key.
   */
  CERT_SIGNING_KEY: z.string().min(1).optional(),
  /** Certificate checks (/verify/<code>) allowed from one address per 15 minutes. */
  VERIFY_RATE_PER_IP: z.coerce.number().int().positive().default(60),
  /** The address people type to reach the school (scheme, host, port). SCORM content may only be framed by, and report to, this origin. */
  APP_ORIGIN: z.url().transform((u) => new URL(u).origin).default('http://localhost:3000'),
  /**
   * Where SCORM packages are served from: a different host name than APP_ORIGIN, so package
   * scripts never see the school's cookies or pages (cookies follow the host, not the port).
   * In production point a separate host name (content.school.example) at CONTENT_PORT.
   */
  CONTENT_ORIGIN: z.url().transform((u) => new URL(u).origin).default('http://127.0.0.1:3001'),
  /** Port this process also listens on to serve CONTENT_ORIGIN. */
  CONTENT_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /** Largest SCORM package upload (the .zip), in megabytes. Unpacked it may take five times that. */
  SCORM_MAX_MB: z.coerce.number().int().positive().max(2000).default(200),
  /** Reports: the smallest count of people an export shows; fewer are written as "<N" (small-cell suppression). */
  REPORT_MIN_CELL: z.coerce.number().int().min(1).max(100).default(5),
  /** Reports: study hours a learner should reach per six-month cycle, in language courses and in soft-skills courses. */
  REPORT_LANGUAGE_HOURS: z.coerce.number().int().min(0).max(5000).default(280),
  REPORT_SOFT_SKILLS_HOURS: z.coerce.number().int().min(0).max(5000).default(80),
  /** Reports: minutes between refreshes of the pre-counted progress and study figures (in the background). */
  REPORT_REFRESH_MINUTES: z.coerce.number().int().min(1).max(1440).default(5),
});

export type Config = z.infer<typeof schema> & { SESSION_SECRET: string; dataDir: string };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = parsed.data;
  const dataDir = path.resolve(cfg.DATA_DIR);
  return { ...cfg, dataDir, SESSION_SECRET: cfg.SESSION_SECRET ?? persistedSecret(cfg.NODE_ENV, dataDir) };
}

/** Outside production a missing secret is generated once and kept, so restarts keep everyone signed in. */
function persistedSecret(env: string, dataDir: string): string {
  if (env === 'production') throw new Error('Invalid configuration:\n  SESSION_SECRET: required in production (32+ characters)');
  const file = path.join(dataDir, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
