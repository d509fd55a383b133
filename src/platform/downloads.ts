/**
 * Sending a stored file back. Call only after the slice's policy said the actor may have it.
 * Files are downloads (`Content-Disposition: attachment`) so a browser never renders what someone
 * uploaded as a page; the one exception is an image the server itself re-encoded, which may be
 * shown inline as an <img>. `nosniff` and a sandboxing CSP stop the browser guessing otherwise.
 */
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { Storage } from './storage.ts';

export interface DownloadableFile {
  storageId: string;
  /** Display name offered to the browser. */
  name: string;
  /** MIME type decided when the file was checked, never the sender's claim. */
  mime: string;
}

/** Only these are ever shown inline, and only because the server produced their bytes. */
const INLINE_SAFE = new Set(['image/jpeg', 'image/webp']);

/** RFC 6266 header with an ASCII fallback and the full UTF-8 name (Arabic, Greek… file names). */
export function contentDisposition(type: 'attachment' | 'inline', name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const utf8 = encodeURIComponent(name).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return `${type}; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}

export async function sendStoredFile(res: Response, storage: Storage, file: DownloadableFile, opts: { inline?: boolean } = {}) {
  const opened = await storage.open(file.storageId);
  const inline = !!opts.inline && INLINE_SAFE.has(file.mime);
  res.status(200);
  res.set({
    'Content-Type': file.mime,
    'Content-Length': String(opened.size),
    'Content-Disposition': contentDisposition(inline ? 'inline' : 'attachment', file.name),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  try {
    await pipeline(opened.stream, res);
  } catch (err) {
    // A phone that walks out of coverage mid-download is not a server error.
    if ((err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
  }
}
