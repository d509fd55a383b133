import express from 'express';
import { existsSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { contentDisposition, sendStoredFile } from '../../src/platform/downloads.ts';
import { NotFound } from '../../src/platform/errors.ts';
import { LocalStorage, fileStorage, isFileId } from '../../src/platform/storage.ts';

const newStorage = () => fileStorage(mkdtempSync(path.join(tmpdir(), 'dars-storage-')));
const read = async (s: Readable) => Buffer.concat(await s.toArray());

/** Every regular file below a folder, as paths relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('file storage', () => {
  it('when bytes are stored, then they come back by a random id and the file is named by that id only', async () => {
    const storage = newStorage();
    const a = await storage.put(Buffer.from('homework page 1'));
    const b = await storage.put(Buffer.from('homework page 1'));
    expect(isFileId(a.id)).toBe(true);
    expect(a.id).not.toBe(b.id);
    expect(a.size).toBe(15);
    const opened = await storage.open(a.id);
    expect(opened.size).toBe(15);
    expect((await read(opened.stream)).toString()).toBe('homework page 1');
    expect(filesUnder(storage.root).sort()).toEqual([`${a.id.slice(0, 2)}/${a.id}`, `${b.id.slice(0, 2)}/${b.id}`].sort());
  });

  it('when a stream breaks half-way, then nothing of it stays on disk and the error reaches the caller', async () => {
    const storage = newStorage();
    const broken = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024, 1));
        this.destroy(new Error('connection lost'));
      },
    });
    await expect(storage.put(broken)).rejects.toThrow('connection lost');
    expect(filesUnder(storage.root)).toEqual([]);
  });

  it('when an id is missing, malformed or a path, then opening is NotFound and deleting is harmless', async () => {
    const storage = newStorage();
    await expect(storage.open('0'.repeat(32))).rejects.toBeInstanceOf(NotFound);
    await expect(storage.open('../../etc/passwd')).rejects.toBeInstanceOf(NotFound);
    expect(await storage.exists('../x')).toBe(false);
    await storage.delete('../../etc/passwd');
    const kept = await storage.put(Buffer.from('x'));
    await storage.delete(kept.id);
    await storage.delete(kept.id);
    expect(await storage.exists(kept.id)).toBe(false);
  });

  it('when a crashed process left a half-written file, then the sweep at start removes it but leaves fresh ones', async () => {
    const storage = new LocalStorage(mkdtempSync(path.join(tmpdir(), 'dars-storage-')));
    await mkdir(storage.partialDir, { recursive: true });
    const old = path.join(storage.partialDir, 'old.1');
    const fresh = path.join(storage.partialDir, 'fresh.2');
    writeFileSync(old, 'x');
    writeFileSync(fresh, 'y');
    const hourAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(old, hourAgo, hourAgo);
    expect(await storage.sweepPartials()).toBe(1);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
  });
});

describe('downloads', () => {
  async function serve(file: { name: string; mime: string }, inline: boolean) {
    const storage = newStorage();
    const { id } = await storage.put(Buffer.from('<html><script>alert(1)</script></html>'));
    const app = express();
    app.get('/f', (_req, res) => sendStoredFile(res, storage, { storageId: id, ...file }, { inline }));
    return request(app).get('/f');
  }

  it('when any file is sent, then it is an attachment with nosniff and a sandbox, even if inline was asked for', async () => {
    const res = await serve({ name: 'answer.pdf', mime: 'application/pdf' }, true);
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="answer.pdf"/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain('sandbox');
    expect(res.headers['content-type']).toBe('application/pdf');
  });

  it('when a server-made JPEG is shown in a page, then it may be inline', async () => {
    const res = await serve({ name: 'photo.jpg', mime: 'image/jpeg' }, true);
    expect(res.headers['content-disposition']).toMatch(/^inline;/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('when a file name is Arabic or has quotes, then the header stays valid and keeps the real name for the browser', () => {
    const header = contentDisposition('attachment', 'واجب "1".pdf');
    expect(header).toMatch(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
    expect(header).not.toContain('"1"');
    expect(decodeURIComponent(header.split("UTF-8''")[1]!)).toBe('واجب "1".pdf');
  });
});
