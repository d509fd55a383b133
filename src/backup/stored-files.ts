/**
 * Stored files: every folder under DATA_DIR that holds uploaded or imported content (files/,
 * which includes course media, and any folder a slice adds, such as scorm/). Not copied: pg/ (the
 * database travels as table dumps), files at the top of DATA_DIR (session-secret: a secret does not
 * belong in a copy that may be kept somewhere less guarded, and a new one only signs people out),
 * and half-written files (`.partial`), which no record points at.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const DATABASE_DIR = 'pg';

const isPartial = (name: string) => name === '.partial' || name.endsWith('.partial');

/**
 * Paths (relative to DATA_DIR, with `/`) of the files to back up, sorted. `skip` holds absolute
 * folders to leave out: a backup written inside DATA_DIR must not copy itself.
 */
export async function listStoredFiles(dataDir: string, skip: string[] = []): Promise<string[]> {
  const root = path.resolve(dataDir);
  const skipped = new Set(skip.map((s) => path.resolve(s)));
  const found: string[] = [];
  const walk = async (dir: string, rel: string) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      if (isPartial(e.name) || skipped.has(abs)) continue;
      if (e.isDirectory()) await walk(abs, relPath);
      else if (e.isFile() && rel) found.push(relPath);
    }
  };
  const top = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const e of top) {
    if (e.isDirectory() && e.name !== DATABASE_DIR && !isPartial(e.name) && !skipped.has(path.join(root, e.name))) await walk(path.join(root, e.name), e.name);
  }
  return found.sort();
}

export interface CopiedFile {
  size: number;
  sha256: string;
}

/** Hashes and counts the bytes passing through. */
export function fingerprint() {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return { tap, result: (): CopiedFile => ({ size, sha256: hash.digest('hex') }) };
}

/**
 * Copies one file, hashing it on the way. The copy appears under its name only when complete
 * (written beside it as `.partial`, flushed, renamed). `expected`, when given, is checked before
 * the rename: a damaged source never lands as a real file.
 */
export async function copyFile(from: string, to: string, expected?: CopiedFile): Promise<CopiedFile> {
  await mkdir(path.dirname(to), { recursive: true, mode: 0o700 });
  const partial = `${to}.${process.pid}.partial`;
  const { tap, result } = fingerprint();
  try {
    await pipeline(createReadStream(from), tap, createWriteStream(partial, { mode: 0o600, flush: true }));
    const got = result();
    if (expected && (got.size !== expected.size || got.sha256 !== expected.sha256)) {
      throw new Error(`${from} does not match the backup's manifest (size or SHA-256 differ): the backup is damaged.`);
    }
    await rename(partial, to);
    return got;
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

/** The file's fingerprint, or undefined when there is no such file. */
export async function fingerprintOf(file: string): Promise<CopiedFile | undefined> {
  const s = await lstat(file).catch(() => undefined);
  if (!s) return undefined;
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}
