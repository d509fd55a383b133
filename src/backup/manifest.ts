/**
 * manifest.json: what a backup holds and the fingerprints a restore checks it against. It is
 * written last, so a folder without one is an unfinished backup.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const MANIFEST = 'manifest.json';
export const FORMAT = 'dars-backup';
export const FORMAT_VERSION = 1;
/** Table dumps (COPY text format, gzip) and stored files live in these sub-folders of a backup. */
export const TABLES_DIR = 'tables';
export const FILES_DIR = 'data';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * A stored file's place below DATA_DIR: relative, with no way up or out, never into the
 * database folder. Checked again on restore, because a manifest is only a file someone could edit.
 */
const storedPath = z
  .string()
  .min(1)
  .refine((p) => !path.isAbsolute(p) && !p.includes('\\') && p.split('/').every((part) => part !== '' && part !== '.' && part !== '..') && p.split('/')[0] !== 'pg', 'not a path inside DATA_DIR');

const manifestSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(FORMAT_VERSION),
  createdAt: z.iso.datetime(),
  darsVersion: z.string(),
  postgresVersion: z.string(),
  /** Migrations applied to the database when it was backed up, in the order they ran. */
  migrations: z.array(z.string()),
  tables: z.array(
    z.object({
      name: z.string().min(1),
      file: z.string().regex(/^[^/\\]+\.copy\.gz$/),
      columns: z.array(z.string()).min(1),
      rows: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
      sha256,
    }),
  ),
  /** Sequences owned by no column, with the position they had. */
  sequences: z.array(z.object({ name: z.string(), lastValue: z.string().regex(/^-?\d+$/), isCalled: z.boolean() })),
  files: z.array(z.object({ path: storedPath, size: z.number().int().nonnegative(), sha256 })),
  /** Files that disappeared between listing and copying (deleted while the backup ran). */
  vanished: z.array(z.string()),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type TableEntry = Manifest['tables'][number];
export type FileEntry = Manifest['files'][number];

export async function writeManifest(folder: string, manifest: Manifest) {
  await writeFile(path.join(folder, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600, flush: true });
}

export async function readManifest(folder: string): Promise<Manifest> {
  const text = await readFile(path.join(folder, MANIFEST), 'utf8').catch(() => undefined);
  if (text === undefined) throw new BackupRefused(`${folder} holds no ${MANIFEST}: it is not a backup, or its backup did not finish.`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new BackupRefused(`${path.join(folder, MANIFEST)} is not valid JSON: the backup is damaged.`);
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new BackupRefused(`${path.join(folder, MANIFEST)} is not a Dars backup manifest of version ${FORMAT_VERSION} (${first.path.join('.')}: ${first.message}).`);
  }
  return parsed.data;
}

/** A backup or restore that must not go on; the message says why and what to do. */
export class BackupRefused extends Error {}
