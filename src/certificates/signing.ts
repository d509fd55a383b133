/**
 * The school's Ed25519 signing key and the proofs it makes.
 *
 * Credentials are signed with the W3C Data Integrity cryptosuite `eddsa-jcs-2022`: the credential
 * (without its proof) and the proof's options are each canonicalised with JCS (RFC 8785) and
 * hashed with SHA-256; the two hashes, options first, are signed with Ed25519; the signature is
 * the proof's `proofValue` in base58btc multibase. The key is named by a `did:key`, so the
 * credential carries everything needed to check it; the school publishes the same key at
 * /.well-known/dars-certificates.json so a verifier can tell it is the school's.
 *
 * `verifyCredential` needs nothing but node:crypto: it is the whole offline check.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const CRYPTOSUITE = 'eddsa-jcs-2022';
export const KEY_FILE = 'certificate-signing-key.pem';

/** The public half as published: a JWK with its thumbprint as `kid`, and the same key as multibase. */
export interface PublishedKey {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
  /** `did:key:z6Mk…`: the key as credentials name it. */
  controller: string;
  publicKeyMultibase: string;
}

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  published: PublishedKey;
  /** `did:key:z6Mk…#z6Mk…` */
  verificationMethod: string;
}

export interface DataIntegrityProof {
  type: 'DataIntegrityProof';
  cryptosuite: typeof CRYPTOSUITE;
  created: string;
  verificationMethod: string;
  proofPurpose: 'assertionMethod';
  proofValue: string;
}

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type SignedDocument = { [key: string]: Json } & { proof: DataIntegrityProof };

// ---- canonical JSON (RFC 8785) --------------------------------------------------------------

/**
 * JCS: object keys sorted by UTF-16 code units, no white space, strings and numbers written as
 * ECMAScript's JSON.stringify writes them (which is what RFC 8785 specifies).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('JCS cannot represent a non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  throw new TypeError(`JCS cannot represent a ${typeof value}`);
}

// ---- base58btc and keys -------------------------------------------------------------------------

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58Encode(bytes: Uint8Array): string {
  const digits: number[] = [];
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < digits.length; i++) {
      carry += digits[i]! << 8;
      digits[i] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  let out = '';
  for (const byte of bytes) {
    if (byte !== 0) break;
    out += '1';
  }
  for (let i = digits.length - 1; i >= 0; i--) out += BASE58[digits[i]!];
  return out;
}

export function base58Decode(text: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (const ch of text) {
    let carry = BASE58.indexOf(ch);
    if (carry < 0) return undefined;
    for (let i = 0; i < bytes.length; i++) {
      carry += bytes[i]! * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    while (carry) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  for (const ch of text) {
    if (ch !== '1') break;
    bytes.push(0);
  }
  return Uint8Array.from(bytes.reverse());
}

/** Multicodec prefix of an Ed25519 public key (0xed, varint-encoded). */
const ED25519_PUB = Uint8Array.of(0xed, 0x01);
/** PKCS#8 wrapping of a bare 32-byte Ed25519 seed. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function rawPublicKey(publicKey: KeyObject): Buffer {
  return Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
}

function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/** RFC 7638 thumbprint of an Ed25519 JWK: stable, and short enough to print. */
export function jwkThumbprint(x: string): string {
  return createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest('base64url');
}

export function publish(publicKey: KeyObject): PublishedKey {
  const raw = rawPublicKey(publicKey);
  const multibase = 'z' + base58Encode(Buffer.concat([ED25519_PUB, raw]));
  const x = raw.toString('base64url');
  return { kty: 'OKP', crv: 'Ed25519', x, kid: jwkThumbprint(x), alg: 'EdDSA', use: 'sig', controller: `did:key:${multibase}`, publicKeyMultibase: multibase };
}

/** A published key from its `x` alone (as kept in the database). */
export function publishX(x: string): PublishedKey {
  return publish(publicKeyFromRaw(Buffer.from(x, 'base64url')));
}

function signingKeyFrom(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('Invalid configuration:\n  CERT_SIGNING_KEY: not an Ed25519 private key');
  const publicKey = createPublicKey(privateKey);
  const published = publish(publicKey);
  return { privateKey, publicKey, published, verificationMethod: `${published.controller}#${published.publicKeyMultibase}` };
}

/** CERT_SIGNING_KEY as given: a PKCS#8 PEM (newlines may be written `\n`) or the 32-byte seed in base64url. */
export function parseSigningKey(text: string): SigningKey {
  const value = text.trim();
  try {
    if (value.startsWith('-----BEGIN')) return signingKeyFrom(createPrivateKey(value.replace(/\\n/g, '\n')));
    const seed = Buffer.from(value, 'base64url');
    if (seed.length !== 32) throw new Error('not 32 bytes');
    return signingKeyFrom(createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' }));
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('Invalid configuration')) throw err;
    throw new Error('Invalid configuration:\n  CERT_SIGNING_KEY: expected an Ed25519 private key (PKCS#8 PEM, or a 32-byte seed in base64url)');
  }
}

/**
 * The configured key, or the one kept in DATA_DIR (made on first use). Several processes may
 * start at once: the new key is written aside and linked into place, so exactly one wins and
 * every process reads the winner.
 */
export function loadSigningKey(opts: { configured?: string; dataDir: string }): SigningKey {
  if (opts.configured) return parseSigningKey(opts.configured);
  const file = path.join(opts.dataDir, KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(opts.dataDir, { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    const aside = `${file}.${process.pid}.${Date.now()}`;
    writeFileSync(aside, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    try {
      linkSync(aside, file);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(aside);
    }
  }
  return signingKeyFrom(createPrivateKey(readFileSync(file, 'utf8')));
}

// ---- proofs -------------------------------------------------------------------------------------

function hashData(document: Record<string, unknown>, options: Record<string, unknown>): Buffer {
  const config = { ...options, '@context': document['@context'] };
  const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return Buffer.concat([sha(canonicalJson(config)), sha(canonicalJson(document))]);
}

/** Adds a proof to a credential (any proof it had is replaced). */
export function signDocument(document: Record<string, Json>, key: SigningKey, created: Date): SignedDocument {
  const { proof: _old, ...unsigned } = document;
  const options = {
    type: 'DataIntegrityProof' as const,
    cryptosuite: CRYPTOSUITE,
    created: created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    verificationMethod: key.verificationMethod,
    proofPurpose: 'assertionMethod' as const,
  };
  const signature = sign(null, hashData(unsigned, options), key.privateKey);
  return { ...unsigned, proof: { ...options, proofValue: 'z' + base58Encode(signature) } } as SignedDocument;
}

/** The raw Ed25519 key a `did:key:z6Mk…#z6Mk…` verification method names; undefined for anything else. */
function didKeyPublicKey(verificationMethod: string): Uint8Array | undefined {
  const method = /^did:key:(z[1-9A-HJ-NP-Za-km-z]+)#(z[1-9A-HJ-NP-Za-km-z]+)$/.exec(verificationMethod);
  if (!method || method[1] !== method[2]) return undefined;
  const multikey = base58Decode(method[1]!.slice(1));
  if (!multikey || multikey.length !== 34 || multikey[0] !== ED25519_PUB[0] || multikey[1] !== ED25519_PUB[1]) return undefined;
  return multikey.slice(2);
}

/** The thumbprint (`kid`) of the key a proof names, as printed on certificates. */
export function keyIdOf(proof: Pick<DataIntegrityProof, 'verificationMethod'>): string {
  const raw = didKeyPublicKey(proof.verificationMethod);
  return raw ? jwkThumbprint(Buffer.from(raw).toString('base64url')) : '';
}

export type VerifyResult =
  | { valid: true; kid: string; verificationMethod: string }
  | { valid: false; reason: 'malformed' | 'unsupported' | 'untrusted-key' | 'bad-signature' };

/**
 * Checks a credential's proof offline. With `trusted` (the school's published keys, e.g. the
 * `keys` of /.well-known/dars-certificates.json kept from when the school was online), the
 * signing key must also be one of them; without it, only the signature is checked.
 */
export function verifyCredential(credential: unknown, trusted?: readonly Pick<PublishedKey, 'x'>[]): VerifyResult {
  if (!credential || typeof credential !== 'object' || Array.isArray(credential)) return { valid: false, reason: 'malformed' };
  const { proof, ...unsigned } = credential as Record<string, unknown>;
  if (!proof || typeof proof !== 'object') return { valid: false, reason: 'malformed' };
  const { proofValue, ...options } = proof as Record<string, unknown>;
  if (options.type !== 'DataIntegrityProof' || options.cryptosuite !== CRYPTOSUITE || options.proofPurpose !== 'assertionMethod') return { valid: false, reason: 'unsupported' };
  if (typeof proofValue !== 'string' || !proofValue.startsWith('z') || typeof options.verificationMethod !== 'string') return { valid: false, reason: 'malformed' };
  const raw = didKeyPublicKey(options.verificationMethod);
  if (!raw) return { valid: false, reason: 'unsupported' };
  const x = Buffer.from(raw).toString('base64url');
  if (trusted && !trusted.some((k) => k.x === x)) return { valid: false, reason: 'untrusted-key' };
  const signature = base58Decode(proofValue.slice(1));
  if (!signature || signature.length !== 64) return { valid: false, reason: 'malformed' };
  let ok: boolean;
  try {
    ok = verify(null, hashData(unsigned, options), publicKeyFromRaw(raw), signature);
  } catch {
    return { valid: false, reason: 'malformed' };
  }
  return ok ? { valid: true, kid: jwkThumbprint(x), verificationMethod: options.verificationMethod } : { valid: false, reason: 'bad-signature' };
}

/** A short, printable fingerprint of a proof: enough to compare a paper copy with the file. */
export function signatureFingerprint(proofValue: string): string {
  return createHash('sha256').update(proofValue).digest('hex').slice(0, 16).match(/.{4}/g)!.join(' ');
}
