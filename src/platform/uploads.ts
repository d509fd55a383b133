/**
 * Receiving files. Limits are enforced while the bytes arrive (multer), and multer's limit errors,
 * which carry no HTTP status, become translated 413/400 pages.
 */
import type { Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { AppError, InvalidInput } from './errors.ts';

/**
 * Browsers send a file's name as UTF-8 bytes in the part header; multer reads them as Latin-1
 * unless told, which turns the Arabic "اجب.pdf" into the unreadable "Ø§Ø¬Ø¨.pdf".
 */
const NAMES_IN_UTF8 = { defParamCharset: 'utf8' } as const;

export interface UploadLimits {
  maxBytes: number;
  maxFiles?: number;
}

/**
 * A multipart body the parser cannot read (busboy throws plain errors): e.g. control characters
 * in a file name. The sender's fault, answered as such, never as a server error.
 */
function isUnreadableMultipart(err: unknown): boolean {
  const message = err instanceof Error && !(err instanceof multer.MulterError) ? err.message : '';
  return /^(Malformed |Multipart: Boundary not found|Unexpected end of form)/.test(message);
}

/**
 * The multipart twin of rejectUnstorableText (src/platform/security.ts), which runs before these
 * forms are parsed: the first text field holding a NUL or bytes that were not UTF-8 (decoded as
 * U+FFFD), which PostgreSQL must never receive as if they were what the person typed.
 */
function unstorableField(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const bad = (v: unknown): boolean => (typeof v === 'string' ? /[\u0000\uFFFD]/.test(v) : Array.isArray(v) && v.some(bad));
  return Object.entries(body).find(([, v]) => bad(v))?.[0];
}

export function uploadErrorFrom(err: unknown): AppError | undefined {
  if (isUnreadableMultipart(err)) return new AppError('upload_invalid', 400, 'errors:upload.invalid');
  if (!(err instanceof multer.MulterError)) return undefined;
  switch (err.code) {
    case 'LIMIT_FILE_SIZE':
      return new AppError('upload_too_large', 413, 'errors:upload.tooLarge');
    case 'LIMIT_FILE_COUNT':
    case 'LIMIT_UNEXPECTED_FILE':
      return new AppError('upload_too_many', 400, 'errors:upload.tooMany');
    default:
      return new AppError('upload_invalid', 400, 'errors:upload.invalid');
  }
}

/** Files held in memory (small uploads: CSV, photos); large archives use disk storage of their own. */
export function memoryUpload(fieldName: string, limits: UploadLimits): RequestHandler {
  const m = multer({
    ...NAMES_IN_UTF8,
    storage: multer.memoryStorage(),
    limits: { fileSize: limits.maxBytes, files: limits.maxFiles ?? 1, fields: 50, fieldSize: 64 * 1024, parts: 60 },
  });
  const handler = (limits.maxFiles ?? 1) > 1 ? m.array(fieldName, limits.maxFiles) : m.single(fieldName);
  return (req, res, next) =>
    handler(req, res, (err?: unknown) => {
      if (!err && unstorableField(req.body)) return next(new AppError('bad_text', 400, 'errors:badText.body'));
      next(uploadErrorFrom(err) ?? err);
    });
}

export interface ReceivedUpload {
  files: Express.Multer.File[];
  /** A limit the sender went past, as a message for the form's file field; files is then empty. */
  problem?: InvalidInput;
}

/**
 * Reads a multipart form inside a handler, with limits known only then (e.g. an assignment's own
 * file count and size). Going past a limit is not a failed request but a form problem: it is
 * returned, so the form can be shown again with the sender's text kept (multer keeps the fields
 * that arrived before the file). Anything else (a broken connection) rejects as usual.
 */
export function receiveFiles(req: Request, res: Response, fieldName: string, limits: UploadLimits): Promise<ReceivedUpload> {
  const maxFiles = limits.maxFiles ?? 1;
  const m = multer({
    ...NAMES_IN_UTF8,
    storage: multer.memoryStorage(),
    limits: { fileSize: limits.maxBytes, files: maxFiles, fields: 50, fieldSize: 64 * 1024, parts: 60 + maxFiles },
  });
  return new Promise((resolve, reject) => {
    m.array(fieldName, maxFiles)(req, res, (err?: unknown) => {
      const bad = err ? undefined : unstorableField(req.body);
      if (bad) return resolve({ files: [], problem: new InvalidInput({ [bad]: { key: 'validation:badCharacters' } }) });
      if (!err) return resolve({ files: (req.files as Express.Multer.File[] | undefined) ?? [] });
      if (isUnreadableMultipart(err)) {
        req.files = [];
        return resolve({ files: [], problem: new InvalidInput({ [fieldName]: { key: 'uploads:unreadable' } }) });
      }
      if (!(err instanceof multer.MulterError)) return reject(err);
      req.files = [];
      const key =
        err.code === 'LIMIT_FILE_SIZE'
          ? { key: 'uploads:fileTooLarge', vars: { max: Math.round((limits.maxBytes / 1_000_000) * 10) / 10 } }
          : err.code === 'LIMIT_FILE_COUNT' || err.code === 'LIMIT_UNEXPECTED_FILE'
            ? { key: 'uploads:tooMany', vars: { count: maxFiles } }
            : { key: 'uploads:invalid' };
      resolve({ files: [], problem: new InvalidInput({ [fieldName]: key }) });
    });
  });
}
