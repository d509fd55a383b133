/**
 * Receiving files. Limits are enforced while the bytes arrive (multer), and multer's limit errors,
 * which carry no HTTP status, become translated 413/400 pages.
 */
import type { RequestHandler } from 'express';
import multer from 'multer';
import { AppError } from './errors.ts';

export interface UploadLimits {
  maxBytes: number;
  maxFiles?: number;
}

export function uploadErrorFrom(err: unknown): AppError | undefined {
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
    storage: multer.memoryStorage(),
    limits: { fileSize: limits.maxBytes, files: limits.maxFiles ?? 1, fields: 50, fieldSize: 64 * 1024, parts: 60 },
  });
  const handler = (limits.maxFiles ?? 1) > 1 ? m.array(fieldName, limits.maxFiles) : m.single(fieldName);
  return (req, res, next) => handler(req, res, (err?: unknown) => next(uploadErrorFrom(err) ?? err));
}
