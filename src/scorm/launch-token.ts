/**
 * What a player on the content origin carries instead of the school's session: signed, short-lived
 * and scoped to one attempt. Two kinds:
 *
 * - the *launch token* names an attempt, a session (one sitting) and the learner; it opens the
 *   player page and authorises commits to that attempt. It lives two hours and every accepted
 *   commit answers with a fresh one, so a long sitting keeps working while a leaked token soon
 *   stops.
 * - the *file key* lets the learner's browser read one package's files. It names the learner (so
 *   the bytes can be metered to them) and a week: package URLs stay the same all week, so a phone
 *   that opens the lesson again reads it from its cache instead of paying for it twice.
 */
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';

export const LAUNCH_TOKEN_SECONDS = 2 * 60 * 60;
const FILE_KEY_WINDOW_SECONDS = 7 * 24 * 60 * 60;

export interface LaunchClaims {
  attemptId: number;
  sessionId: number;
  learnerId: number;
  /** Expiry, seconds since the epoch. */
  expires: number;
}

export interface TokenSigner {
  launchToken(claims: Omit<LaunchClaims, 'expires'>, now?: Date): string;
  readLaunchToken(token: unknown, now?: Date): LaunchClaims | null;
  /** A path segment: `<learner>.<window>.<mac>`. */
  fileKey(packageId: number, learnerId: number, now?: Date): string;
  /** The learner the key was made for, or null when it is forged, for another package or too old. */
  readFileKey(packageId: number, key: string, now?: Date): number | null;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function tokenSigner(sessionSecret: string): TokenSigner {
  // A key of its own, derived from the session secret: a token is never a valid session signature.
  // Made a KeyObject once: an HMAC over a KeyObject skips preparing the raw key on every call
  // (about 20 µs each), and every SCORM commit checks one token and signs the next.
  const key = createSecretKey(createHmac('sha256', sessionSecret).update('dars scorm tokens v1').digest());
  const mac = (data: string) => createHmac('sha256', key).update(data).digest();
  const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
  const seconds = (now: Date) => Math.floor(now.getTime() / 1000);

  return {
    launchToken(claims, now = new Date()) {
      const body = b64(JSON.stringify([claims.attemptId, claims.sessionId, claims.learnerId, seconds(now) + LAUNCH_TOKEN_SECONDS]));
      return `${body}.${b64(mac(`launch.${body}`))}`;
    },
    readLaunchToken(token, now = new Date()) {
      if (typeof token !== 'string' || token.length > 300) return null;
      const [body, sig, extra] = token.split('.');
      if (!body || !sig || extra !== undefined || !same(Buffer.from(sig, 'base64url'), mac(`launch.${body}`))) return null;
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        return null;
      }
      if (!Array.isArray(parsed) || parsed.length !== 4 || !parsed.every((n) => Number.isSafeInteger(n) && n > 0)) return null;
      const [attemptId, sessionId, learnerId, expires] = parsed as number[];
      if (expires! < seconds(now)) return null;
      return { attemptId: attemptId!, sessionId: sessionId!, learnerId: learnerId!, expires: expires! };
    },
    fileKey(packageId, learnerId, now = new Date()) {
      const window = Math.floor(seconds(now) / FILE_KEY_WINDOW_SECONDS);
      return `${learnerId}.${window}.${b64(mac(`files.${packageId}.${learnerId}.${window}`).subarray(0, 16))}`;
    },
    readFileKey(packageId, key, now = new Date()) {
      const m = /^([1-9][0-9]{0,9})\.([0-9]{1,8})\.([A-Za-z0-9_-]{22})$/.exec(key);
      if (!m) return null;
      const [learner, window] = [Number(m[1]), Number(m[2])];
      const current = Math.floor(seconds(now) / FILE_KEY_WINDOW_SECONDS);
      // The previous week's key still opens files, so a sitting begun just before the turn goes on.
      if (window !== current && window !== current - 1) return null;
      const expected = mac(`files.${packageId}.${learner}.${window}`).subarray(0, 16);
      return same(Buffer.from(m[3]!, 'base64url'), expected) ? learner : null;
    },
  };
}
