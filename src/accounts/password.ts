import { hash, verify } from '@node-rs/argon2';
import { randomInt } from 'node:crypto';

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
// `algorithm: 2` is Argon2id (the package's enum is const, which type stripping cannot import).
const OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const hashPassword = (password: string) => hash(password, OPTIONS);

export async function verifyPassword(hashed: string | undefined, password: string): Promise<boolean> {
  // Unknown users still cost one verification, so timing does not reveal which names exist.
  const target = hashed ?? DUMMY_HASH;
  const ok = await verify(target, password).catch(() => false);
  return ok && hashed !== undefined;
}

const DUMMY_HASH = await hash('dars-no-such-user', OPTIONS);

/** One-time passwords are read aloud or written on paper: no look-alike characters. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export function oneTimePassword(length = 10): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}
