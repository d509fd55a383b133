/**
 * What an uploaded file really is, decided by its first bytes (file-type), never by its name or
 * the browser's MIME type: a program renamed photo.jpg is a program. Accepted kinds are photos
 * (JPEG, PNG, WebP, HEIC/AVIF when the image library can read them), PDFs and audio recordings.
 * Photos are always decoded and re-encoded by the server (see normalisePhoto), so whatever else
 * hid in the original — metadata, GPS position, appended HTML — is gone.
 *
 * Every rejection is an InvalidInput on the form's file field with a key in the `uploads`
 * namespace, so formHandler shows it beside the field with the rest of the form kept.
 */
import { fileTypeFromBuffer } from 'file-type';
import path from 'node:path';
import sharp from 'sharp';
import { InvalidInput } from './errors.ts';

export const UPLOAD_KINDS = ['image', 'pdf', 'audio'] as const;
export type UploadKind = (typeof UPLOAD_KINDS)[number];

/** Detected MIME type → kind, and the MIME type the file is later served with. */
const ACCEPTED: Record<string, { kind: UploadKind; serveAs: string; ext: string }> = {
  'image/jpeg': { kind: 'image', serveAs: 'image/jpeg', ext: 'jpg' },
  'image/png': { kind: 'image', serveAs: 'image/png', ext: 'png' },
  'image/webp': { kind: 'image', serveAs: 'image/webp', ext: 'webp' },
  'image/heic': { kind: 'image', serveAs: 'image/heic', ext: 'heic' },
  'image/heif': { kind: 'image', serveAs: 'image/heif', ext: 'heif' },
  'image/avif': { kind: 'image', serveAs: 'image/avif', ext: 'avif' },
  'application/pdf': { kind: 'pdf', serveAs: 'application/pdf', ext: 'pdf' },
  'audio/ogg': { kind: 'audio', serveAs: 'audio/ogg', ext: 'ogg' },
  'audio/ogg; codecs=opus': { kind: 'audio', serveAs: 'audio/ogg', ext: 'opus' },
  'audio/opus': { kind: 'audio', serveAs: 'audio/ogg', ext: 'opus' },
  'audio/mpeg': { kind: 'audio', serveAs: 'audio/mpeg', ext: 'mp3' },
  'audio/mp4': { kind: 'audio', serveAs: 'audio/mp4', ext: 'm4a' },
  'audio/x-m4a': { kind: 'audio', serveAs: 'audio/mp4', ext: 'm4a' },
  'audio/aac': { kind: 'audio', serveAs: 'audio/aac', ext: 'aac' },
  // Browsers record voice (MediaRecorder) as WebM; its first bytes cannot tell audio from video.
  'video/webm': { kind: 'audio', serveAs: 'audio/webm', ext: 'webm' },
  'audio/webm': { kind: 'audio', serveAs: 'audio/webm', ext: 'webm' },
  'audio/wav': { kind: 'audio', serveAs: 'audio/wav', ext: 'wav' },
  'audio/vnd.wave': { kind: 'audio', serveAs: 'audio/wav', ext: 'wav' },
  'audio/amr': { kind: 'audio', serveAs: 'audio/amr', ext: 'amr' },
};

/** Names and browser types that claim a kind; used only to word the message when the claim is false. */
const CLAIMS: Record<UploadKind, { exts: string[]; mimePrefix: string[] }> = {
  image: { exts: ['jpg', 'jpeg', 'jfif', 'png', 'webp', 'heic', 'heif', 'avif', 'gif', 'bmp', 'svg'], mimePrefix: ['image/'] },
  pdf: { exts: ['pdf'], mimePrefix: ['application/pdf'] },
  audio: { exts: ['mp3', 'm4a', 'aac', 'ogg', 'oga', 'opus', 'wav', 'webm', 'amr', '3gp'], mimePrefix: ['audio/'] },
};

/** The `accept` attribute for a file input taking these kinds (a hint to the phone, never trusted). */
export function acceptAttribute(kinds: readonly UploadKind[]): string {
  const parts: string[] = [];
  if (kinds.includes('image')) parts.push('image/*');
  if (kinds.includes('pdf')) parts.push('application/pdf', '.pdf');
  if (kinds.includes('audio')) parts.push('audio/*', '.m4a', '.opus', '.amr');
  return parts.join(',');
}

export interface UploadRules {
  kinds: readonly UploadKind[];
  /** Largest file as sent, in bytes. */
  maxBytes: number;
  maxFiles: number;
  /** Photos larger than this many pixels are refused before decoding (decompression bombs). */
  maxPixels?: number;
}

/** The part of a multer file the checks read. */
export interface IncomingFile {
  originalname: string;
  mimetype: string;
  buffer: Buffer;
  size: number;
}

export interface CheckedFile {
  kind: UploadKind;
  /** The MIME type to serve the stored bytes with. */
  mime: string;
  /** A safe display name: the sender's name without folders or control characters, with the true extension. */
  name: string;
  /** What to store: for photos the re-encoded image, otherwise the bytes as sent. */
  buffer: Buffer;
  /** Size as the sender sent it. */
  originalBytes: number;
  width?: number;
  height?: number;
}

export interface NormalisedPhoto {
  buffer: Buffer;
  mime: 'image/jpeg' | 'image/webp';
  width: number;
  height: number;
}

export const PHOTO_LONG_EDGE = 1600;
const DEFAULT_MAX_PIXELS = 50_000_000;

/**
 * Turns a phone photo into a small, clean image: turned upright by its EXIF orientation, long
 * edge at most 1600 px, re-encoded, and with every piece of metadata (EXIF, GPS, XMP, ICC) gone —
 * sharp writes none unless asked to.
 */
export async function normalisePhoto(
  input: Buffer,
  opts: { longEdge?: number; format?: 'jpeg' | 'webp'; quality?: number; maxPixels?: number } = {},
): Promise<NormalisedPhoto> {
  const edge = opts.longEdge ?? PHOTO_LONG_EDGE;
  const pipeline = sharp(input, { limitInputPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS, failOn: 'error' })
    .rotate()
    .resize({ width: edge, height: edge, fit: 'inside', withoutEnlargement: true })
    // Photos of paper work with a transparent background would turn black in JPEG.
    .flatten({ background: '#ffffff' });
  const format = opts.format ?? 'jpeg';
  const encoded =
    format === 'webp'
      ? pipeline.webp({ quality: opts.quality ?? 75 })
      : pipeline.jpeg({ quality: opts.quality ?? 78, mozjpeg: true });
  const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
  return { buffer: data, mime: format === 'webp' ? 'image/webp' : 'image/jpeg', width: info.width, height: info.height };
}

function fieldError(field: string, key: string, vars: Record<string, unknown> = {}): InvalidInput {
  return new InvalidInput({ [field]: { key, vars } });
}

const megabytes = (n: number) => Math.round((n / 1_000_000) * 10) / 10;

/**
 * The sender's file name made safe to show and to offer in a download. Marks of writing direction
 * go too: a right-to-left override makes "invoice\u202Efdp.exe" read as "invoiceexe.pdf".
 */
export function safeFileName(original: string, ext: string): string {
  const base = path.basename(original.replace(/\\/g, '/'));
  const stem = base
    .replace(/\.[^.]*$/, '')
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g, '')
    .trim()
    .slice(0, 80);
  return `${stem || 'file'}.${ext}`;
}

function claims(file: IncomingFile, kind: UploadKind): boolean {
  const ext = path.extname(file.originalname).slice(1).toLowerCase();
  const c = CLAIMS[kind];
  return c.exts.includes(ext) || c.mimePrefix.some((p) => file.mimetype.toLowerCase().startsWith(p));
}

/** Checks one file: not empty, within size, a kind the rules accept by its content. */
export async function checkUpload(file: IncomingFile, rules: UploadRules, field = 'files'): Promise<CheckedFile> {
  const shownName = safeFileName(file.originalname, path.extname(file.originalname).slice(1) || 'bin');
  if (file.size === 0 || file.buffer.length === 0) throw fieldError(field, 'uploads:empty', { name: shownName });
  if (file.size > rules.maxBytes) throw fieldError(field, 'uploads:tooLarge', { name: shownName, max: megabytes(rules.maxBytes) });

  const detected = await fileTypeFromBuffer(file.buffer);
  const accepted = detected ? ACCEPTED[detected.mime] : undefined;
  if (!accepted || !rules.kinds.includes(accepted.kind)) {
    const claimed = rules.kinds.find((k) => claims(file, k));
    throw fieldError(field, claimed ? 'uploads:notWhatItSeems' : 'uploads:notAccepted', { name: shownName });
  }

  if (accepted.kind !== 'image') {
    return { kind: accepted.kind, mime: accepted.serveAs, name: safeFileName(file.originalname, accepted.ext), buffer: file.buffer, originalBytes: file.size };
  }
  try {
    const photo = await normalisePhoto(file.buffer, { maxPixels: rules.maxPixels });
    return {
      kind: 'image',
      mime: photo.mime,
      name: safeFileName(file.originalname, 'jpg'),
      buffer: photo.buffer,
      originalBytes: file.size,
      width: photo.width,
      height: photo.height,
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : '';
    if (/pixel limit/i.test(message)) throw fieldError(field, 'uploads:tooManyPixels', { name: shownName });
    // The prebuilt image library reads AVIF but not HEVC-coded HEIC (a patent-encumbered codec).
    if (accepted.ext === 'heic' || accepted.ext === 'heif') throw fieldError(field, 'uploads:heicUnsupported', { name: shownName });
    throw fieldError(field, 'uploads:imageUnreadable', { name: shownName });
  }
}

/**
 * Checks a whole upload: the count first, then each file in order. The first problem is the one
 * reported, naming the file, so the sender knows which one to change.
 */
export async function checkUploads(files: readonly IncomingFile[], rules: UploadRules, field = 'files'): Promise<CheckedFile[]> {
  if (files.length > rules.maxFiles) throw fieldError(field, 'uploads:tooMany', { count: rules.maxFiles });
  const out: CheckedFile[] = [];
  for (const file of files) out.push(await checkUpload(file, rules, field));
  return out;
}
