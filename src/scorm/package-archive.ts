/**
 * Reading an uploaded SCORM zip without trusting it. The central directory is read first and every
 * entry judged before one byte is unpacked: count, declared sizes, compression ratio, encryption,
 * links, names and file kinds. A package that breaks a rule is refused with a problem naming the
 * rule and the entry; nothing is ever "fixed" on the way in. Unpacking then checks that each entry
 * really is the size and checksum the directory promised.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';

/** A reason to refuse a package: an i18n key under scorm:problems and its variables. */
export class PackageProblem extends Error {
  readonly key: string;
  readonly vars: Record<string, unknown>;
  constructor(key: string, vars: Record<string, unknown> = {}) {
    super(key);
    this.key = key;
    this.vars = vars;
  }
}

/**
 * More files than any authoring tool writes for one course: big Storyline exports hold a few
 * thousand, virtual-tour exports (3DVista) over six thousand. A package of ten thousand tiny files
 * is refused.
 */
export const MAX_ENTRIES = 8000;
/** Above this size an entry may not expand more than RATIO times: ordinary files never do, zip bombs always. */
const RATIO_MIN_BYTES = 1024 * 1024;
const RATIO = 200;
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
const MAX_NAME = 1024;

/**
 * What a SCORM package may hold: pages, scripts, styles, data, images, sound, video, 3D models,
 * fonts and documents. .dtd and .xsd are the schema files the specifications ship beside
 * imsmanifest.xml; .swf and .flv are inert leftovers that older Captivate and Storyline exports
 * still include; .md are the notes H5P and web libraries carry; office files and .zip are handouts
 * that authoring tools attach for learners to download; .glb, .gltf, .ktx2 and .basis are the
 * models and textures of 3D and virtual-tour exports.
 */
export const ALLOWED_EXTENSIONS = new Set([
  'html', 'htm', 'xhtml', 'js', 'mjs', 'css', 'json', 'xml', 'xsd', 'dtd', 'txt', 'md', 'csv', 'vtt', 'srt', 'map', 'htc',
  'png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'avif', 'bmp', 'ico', 'cur',
  'mp3', 'm4a', 'aac', 'oga', 'ogg', 'opus', 'wav', 'weba', 'mp4', 'm4v', 'mov', 'webm', 'ogv', 'm3u8',
  'glb', 'gltf', 'ktx2', 'basis',
  'woff', 'woff2', 'ttf', 'otf', 'eot', 'pdf', 'swf', 'flv', 'wasm',
  'doc', 'docx', 'xls', 'xlsx', 'ppt', 'pptx', 'odt', 'ods', 'odp', 'rtf', 'epub', 'zip',
]);

export interface ArchiveLimits {
  maxEntries: number;
  maxUnpackedBytes: number;
}

interface Entry {
  name: string;
  directory: boolean;
  size: number;
  raw: yauzl.Entry;
}

export interface PackageArchive {
  /** Every file (not directory) path in the package, exactly as named in the zip. */
  files: ReadonlySet<string>;
  fileCount: number;
  unpackedBytes: number;
  /** One entry's bytes, refused when larger than `max`. */
  read(name: string, max: number, tooLarge: PackageProblem): Promise<Buffer>;
  /** Unpacks everything under `dir` (which must exist and be empty). */
  extractTo(dir: string): Promise<void>;
  close(): void;
}

/** Opens the zip at `file`, reads its whole directory and judges every entry. */
export async function openPackageArchive(file: string, limits: ArchiveLimits): Promise<PackageArchive> {
  await checkMagic(file);
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: true });
  } catch {
    throw new PackageProblem('damaged');
  }
  try {
    if (zip.entryCount > limits.maxEntries) throw new PackageProblem('tooManyEntries', { files: zip.entryCount, max: limits.maxEntries });
    const entries = await readDirectory(zip, limits);
    return archiveOf(zip, entries);
  } catch (err) {
    zip.close();
    throw err;
  }
}

async function checkMagic(file: string) {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead === 0) throw new PackageProblem('empty');
    // Local file header: every real zip with content starts with it (an empty zip starts with the end record).
    if (bytesRead < 4 || head.readUInt32LE(0) !== 0x04034b50) throw new PackageProblem(head.readUInt32LE(0) === 0x06054b50 ? 'empty' : 'notZip');
  } finally {
    await handle.close();
  }
}

async function readDirectory(zip: yauzl.ZipFile, limits: ArchiveLimits): Promise<Entry[]> {
  const entries: Entry[] = [];
  const seen = new Map<string, 'file' | 'dir'>();
  let unpacked = 0;
  const iterator = zip.eachEntry()[Symbol.asyncIterator]();
  for (;;) {
    // yauzl refuses some broken directories itself (impossible sizes, cut-off records): damaged.
    const next = await iterator.next().catch(() => {
      throw new PackageProblem('damaged');
    });
    if (next.done) break;
    const raw = next.value;
    if (entries.length >= limits.maxEntries) throw new PackageProblem('tooManyEntries', { files: zip.entryCount, max: limits.maxEntries });
    const name = yauzl.getFileNameLowLevel(raw.generalPurposeBitFlag, raw.fileNameRaw as unknown as Buffer, raw.extraFields, true);
    const shown = printable(name);
    checkName(name, shown);
    const directory = name.endsWith('/');
    if (raw.isEncrypted()) throw new PackageProblem('encrypted', { name: shown });
    if (isLink(raw)) throw new PackageProblem('link', { name: shown });
    if (raw.compressionMethod !== 0 && raw.compressionMethod !== 8) throw new PackageProblem('compressionMethod', { name: shown });
    if (directory && raw.uncompressedSize > 0) throw new PackageProblem('damaged');
    if (!directory) checkExtension(name, shown);

    const key = name.replace(/\/$/, '').normalize('NFC').toLowerCase();
    const before = seen.get(key);
    if (before && (before === 'file' || !directory)) throw new PackageProblem('duplicate', { name: shown });
    seen.set(key, directory ? 'dir' : 'file');

    unpacked += raw.uncompressedSize;
    if (unpacked > limits.maxUnpackedBytes) throw new PackageProblem('tooLargeUnpacked', { max: Math.round(limits.maxUnpackedBytes / (1024 * 1024)) });
    if (raw.uncompressedSize > RATIO_MIN_BYTES && raw.uncompressedSize / Math.max(raw.compressedSize, 1) > RATIO) {
      throw new PackageProblem('ratio', { name: shown, ratio: Math.round(raw.uncompressedSize / Math.max(raw.compressedSize, 1)) });
    }
    entries.push({ name, directory, size: raw.uncompressedSize, raw });
  }
  // A file may not also be a folder of other entries ("a.html" and "a.html/b.js").
  for (const e of entries) {
    const parts = e.name.replace(/\/$/, '').split('/');
    for (let i = 1; i < parts.length; i++) {
      if (seen.get(parts.slice(0, i).join('/').normalize('NFC').toLowerCase()) === 'file') throw new PackageProblem('duplicate', { name: printable(parts.slice(0, i).join('/')) });
    }
  }
  return entries;
}

/** Names as they may be shown in a message: control characters visible, length bounded. */
function printable(name: string) {
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, '\uFFFD');
  return clean.length > 120 ? `${clean.slice(0, 117)}…` : clean;
}

function checkName(name: string, shown: string) {
  if (name.includes('\\')) throw new PackageProblem('backslash', { name: shown });
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw new PackageProblem('absolutePath', { name: shown });
  const segments = name.replace(/\/$/, '').split('/');
  if (segments.includes('..')) throw new PackageProblem('escapes', { name: shown });
  if (
    !name ||
    name.length > MAX_NAME ||
    /[\u0000-\u001f\u007f]/.test(name) ||
    segments.some((s) => s === '' || s === '.' || Buffer.byteLength(s) > 255)
  ) {
    throw new PackageProblem('badName', { name: shown });
  }
}

/**
 * Files without a kind of their own that are inert and never served (they have no type): folder
 * notes that macOS and Windows add to any zip made by hand, and the licence and read-me files web
 * libraries ship inside their folders.
 */
const INERT_NAMES = /^(\.DS_Store|Thumbs\.db|desktop\.ini|(LICEN[CS]E|README|CHANGELOG|CHANGES|AUTHORS|NOTICE|COPYING|CONTRIBUTORS)(\.[A-Za-z-]{1,10})?)$/;

function checkExtension(name: string, shown: string) {
  const base = name.slice(name.lastIndexOf('/') + 1);
  if (INERT_NAMES.test(base)) return;
  const dot = base.lastIndexOf('.');
  const ext = dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
  if (!ALLOWED_EXTENSIONS.has(ext)) throw new PackageProblem('extension', { name: shown, ext: ext ? `.${ext}` : '—' });
}

/**
 * Unix zips keep the file's mode in the high half of the external attributes; anything but a
 * plain file or folder (a symbolic link above all) is refused. NTFS reparse points are links too.
 */
function isLink(raw: yauzl.Entry) {
  const mode = raw.externalFileAttributes >>> 16;
  const type = mode & 0o170000;
  if (type !== 0 && type !== 0o100000 && type !== 0o040000) return true;
  return (raw.externalFileAttributes & 0x400) !== 0;
}

function archiveOf(zip: yauzl.ZipFile, entries: Entry[]): PackageArchive {
  const byName = new Map(entries.filter((e) => !e.directory).map((e) => [e.name, e]));
  const stream = (e: Entry) =>
    new Promise<NodeJS.ReadableStream>((resolve, reject) => zip.openReadStream(e.raw, (err, s) => (err ? reject(new PackageProblem('damaged')) : resolve(s))));

  /** Passes the bytes on while checking them against the directory's checksum. */
  const verified = (e: Entry) => {
    let crc = 0;
    return new Transform({
      transform(chunk: Buffer, _enc, done) {
        crc = crc32(chunk, crc);
        done(null, chunk);
      },
      flush(done) {
        done(crc >>> 0 === e.raw.crc32 >>> 0 ? null : new PackageProblem('mismatch', { name: printable(e.name) }));
      },
    });
  };
  const asProblem = (e: Entry) => (err: unknown) => {
    throw err instanceof PackageProblem ? err : new PackageProblem('mismatch', { name: printable(e.name) });
  };

  return {
    files: new Set(byName.keys()),
    fileCount: byName.size,
    unpackedBytes: entries.reduce((n, e) => n + e.size, 0),
    async read(name, max, tooLarge) {
      const e = byName.get(name);
      if (!e) throw new PackageProblem('damaged');
      if (e.size > max) throw tooLarge;
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          chunks.push(chunk);
          done();
        },
      });
      await pipeline(await stream(e), verified(e), sink).catch(asProblem(e));
      return Buffer.concat(chunks);
    },
    async extractTo(dir) {
      const root = path.resolve(dir);
      for (const e of entries) {
        const target = path.resolve(root, ...e.name.replace(/\/$/, '').split('/'));
        // The names were checked already; this is the last word before touching the disk.
        if (!target.startsWith(root + path.sep)) throw new PackageProblem('escapes', { name: printable(e.name) });
        if (e.directory) {
          await mkdir(target, { recursive: true });
          continue;
        }
        await mkdir(path.dirname(target), { recursive: true });
        // 'wx': never write through something already there.
        await pipeline(await stream(e), verified(e), createWriteStream(target, { flags: 'wx', mode: 0o644 })).catch(asProblem(e));
      }
    },
    close: () => zip.close(),
  };
}

/** The sha256 of a file, streamed. */
export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
