/**
 * Where uploaded files live. Each file is kept under a random id (never its name) below
 * DATA_DIR/files, which no route serves directly: every download goes through a policy check and
 * src/platform/downloads.ts. Slices depend only on the `Storage` interface, so S3-compatible
 * storage can replace the local disk without touching them.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFound, StorageUnavailable } from './errors.ts';

export interface StoredFile {
  /** 32 lower-case hex characters; the only name the file has on disk. */
  id: string;
  size: number;
}

export interface OpenedFile {
  stream: Readable;
  size: number;
}

export interface Storage {
  /** Stores the bytes under a new id. The file is visible only once completely written. */
  put(data: Buffer | Uint8Array | Readable): Promise<StoredFile>;
  /** A read stream; NotFound when there is no such file. */
  open(id: string): Promise<OpenedFile>;
  exists(id: string): Promise<boolean>;
  /** Removes the file; removing a missing file is not an error (deletes may be retried). */
  delete(id: string): Promise<void>;
}

const ID = /^[0-9a-f]{32}$/;

/** Errors of the disk itself, not of the request: full, over quota, read-only, not permitted, failing. */
const DISK_TROUBLE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS', 'EACCES', 'EPERM', 'EIO']);

export function isFileId(id: unknown): id is string {
  return typeof id === 'string' && ID.test(id);
}

/** Files on the local disk: `<root>/<first two characters of id>/<id>`. */
export class LocalStorage implements Storage {
  readonly root: string;
  /** Half-written files sit here until renamed into place; same filesystem, so rename is atomic. */
  readonly partialDir: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.partialDir = path.join(this.root, '.partial');
  }

  pathOf(id: string): string {
    if (!isFileId(id)) throw new NotFound();
    return path.join(this.root, id.slice(0, 2), id);
  }

  async put(data: Buffer | Uint8Array | Readable): Promise<StoredFile> {
    const id = randomBytes(16).toString('hex');
    const final = this.pathOf(id);
    const partial = path.join(this.partialDir, `${id}.${process.pid}`);
    try {
      await mkdir(this.partialDir, { recursive: true, mode: 0o700 });
      const source = data instanceof Readable ? data : Readable.from([Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
      // `flush` fsyncs before close: after the rename, a power cut cannot leave an empty file.
      await pipeline(source, createWriteStream(partial, { flags: 'wx', mode: 0o600, flush: true }));
      await mkdir(path.dirname(final), { recursive: true, mode: 0o700 });
      await rename(partial, final);
      return { id, size: (await stat(final)).size };
    } catch (err) {
      await rm(partial, { force: true }).catch(() => {});
      throw DISK_TROUBLE.has((err as NodeJS.ErrnoException).code ?? '') ? new StorageUnavailable(err) : err;
    }
  }

  async open(id: string): Promise<OpenedFile> {
    const file = this.pathOf(id);
    const size = await stat(file).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) throw new NotFound();
    return { stream: createReadStream(file), size };
  }

  async exists(id: string): Promise<boolean> {
    if (!isFileId(id)) return false;
    return stat(this.pathOf(id)).then(
      () => true,
      () => false,
    );
  }

  async delete(id: string): Promise<void> {
    if (!isFileId(id)) return;
    await rm(this.pathOf(id), { force: true });
  }

  /**
   * Removes half-written files a crashed process left behind (a running process removes its own
   * on failure). Called at start; files younger than `olderThanMs` may belong to another process.
   */
  async sweepPartials(olderThanMs = 60 * 60 * 1000): Promise<number> {
    const names = await readdir(this.partialDir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.partialDir, name);
      const s = await stat(file).catch(() => undefined);
      if (s && Date.now() - s.mtimeMs > olderThanMs) {
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

/** The school's file storage under DATA_DIR/files. */
export function fileStorage(dataDir: string): LocalStorage {
  return new LocalStorage(path.join(dataDir, 'files'));
}
