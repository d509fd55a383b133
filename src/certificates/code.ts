/**
 * Verification codes: 12 characters of Crockford's base32 (60 random bits), shown in three groups
 * of four (`7KQ2-M9XD-4TWA`). No I, L, O or U, so a code read aloud or copied from paper by hand
 * survives; when typed, look-alikes are read as what they must have meant (O → 0, I and L → 1).
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_LENGTH = 12;

export function newVerificationCode(): string {
  const bytes = randomBytes(CODE_LENGTH);
  let code = '';
  // Each byte gives one symbol from its low five bits: uniform, since 256 is a multiple of 32.
  for (const b of bytes) code += ALPHABET[b & 31];
  return code;
}

/** `7KQ2M9XD4TWA` → `7KQ2-M9XD-4TWA` */
export function formatCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-');
}

/** What a person typed or scanned, as a stored code; undefined when it cannot be one. */
export function parseCode(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const code = input
    .toUpperCase()
    .replace(/[\s\-_.]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (code.length !== CODE_LENGTH) return undefined;
  for (const ch of code) if (!ALPHABET.includes(ch)) return undefined;
  return code;
}
