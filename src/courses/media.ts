/**
 * Course media on disk: every file is stored under the hash of its bytes, so a re-import of an
 * unchanged recording writes nothing, a changed one gets a new name, and a phone may keep every
 * media URL for a year. Images become small WebP variants (sharp) for `srcset`.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import type { ImageVariants } from './course.entity.ts';

/** Widths a phone chooses from: a 360 px screen at 1× or 2× density. */
const IMAGE_WIDTHS = [320, 640] as const;
const WEBP_QUALITY = 60;

export const MEDIA_NAME = /^[0-9a-f]{32}\.(webp|opus|ogg|oga|mp3|m4a|mp4|webm)$/;

const ACCEPTED: Record<'audio' | 'video' | 'image', RegExp> = {
  audio: /^audio\/(ogg|mpeg|mp4|x-m4a|webm)/,
  video: /^video\/(mp4|webm)/,
  image: /^image\/(jpeg|png|webp|gif)$/,
};

export function mediaDir(filesDir: string) {
  return path.join(filesDir, 'course-media');
}

/** Files made ready in memory; nothing is written until the whole course has passed its checks. */
export class PendingMedia {
  readonly files = new Map<string, Buffer>();

  add(data: Buffer, ext: string): { url: string; bytes: number } {
    const name = `${createHash('sha256').update(data).digest('hex').slice(0, 32)}.${ext}`;
    this.files.set(name, data);
    return { url: `/media/${name}`, bytes: data.length };
  }

  /** Writes the files that are not there yet; each appears whole or not at all (write, then rename). */
  async write(filesDir: string) {
    const dir = mediaDir(filesDir);
    await mkdir(dir, { recursive: true });
    for (const [name, data] of this.files) {
      const target = path.join(dir, name);
      if (await stat(target).then(() => true, () => false)) continue;
      const partial = `${target}.${process.pid}.partial`;
      await writeFile(partial, data);
      await rename(partial, target);
    }
  }
}

/** The file's real type (by its bytes, not its name), if it is one a lesson may carry as `kind`. */
export async function mediaType(data: Buffer, kind: 'audio' | 'video' | 'image') {
  const type = await fileTypeFromBuffer(data);
  if (!type || !ACCEPTED[kind].test(type.mime)) return null;
  return { ext: type.ext, mime: type.mime.split(';')[0]! };
}

/** Small WebP variants of an image; throws if the bytes are not an image sharp can read. */
export async function imageVariants(data: Buffer, pending: PendingMedia): Promise<ImageVariants> {
  const variants: { url: string; width: number; height: number; bytes: number }[] = [];
  for (const width of IMAGE_WIDTHS) {
    const { data: out, info } = await sharp(data).rotate().resize({ width, withoutEnlargement: true }).webp({ quality: WEBP_QUALITY }).toBuffer({ resolveWithObject: true });
    // A small original gives the same variant twice; list it once.
    if (variants.some((v) => v.width === info.width)) continue;
    variants.push({ ...pending.add(out, 'webp'), width: info.width, height: info.height });
  }
  const first = variants[0]!;
  return {
    url: first.url,
    srcset: variants.map((v) => `${v.url} ${v.width}w`).join(', '),
    width: first.width,
    height: first.height,
    bytes: Math.max(...variants.map((v) => v.bytes)),
  };
}
