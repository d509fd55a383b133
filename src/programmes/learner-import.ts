/**
 * Bulk import of learners into a cohort from a CSV file (upload form and `npm run import:learners`).
 * Every row is checked first; if any row is wrong nothing is written and each problem is listed
 * with its row. Learners who already have an account are enrolled as they are.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { LEGAL_STATUSES, SEXES, User, hashPassword, newPasswordField, oneTimePassword, phoneField, usernameField } from '../accounts/index.ts';
import type { Actor } from '../platform/actor.ts';
import { field, keyFor } from '../platform/forms.ts';
import { LANGUAGES } from '../platform/i18n.ts';
import { Cohort } from './programme.entity.ts';
import { enrol } from './programmes.service.ts';

export const CSV_COLUMNS = ['username', 'display_name', 'phone', 'language', 'sex', 'birth_year', 'nationality', 'legal_status', 'disability', 'password'] as const;

const rowSchema = z.object({
  username: usernameField,
  display_name: field.text(120),
  phone: phoneField,
  language: field.optionalEnum(LANGUAGES),
  sex: field.optionalEnum(SEXES),
  birth_year: field.optionalInt(1900, new Date().getUTCFullYear()),
  nationality: z.preprocess((v) => (typeof v === 'string' && v.trim() ? v.trim().toUpperCase() : undefined), z.string().regex(/^[A-Z]{2}$/, 'validation:invalid').optional()),
  legal_status: field.optionalEnum(LEGAL_STATUSES),
  disability: z.preprocess((v) => (v === 'yes' ? true : v === 'no' ? false : v === '' || v === undefined ? undefined : v), z.boolean('validation:yesNo').optional()),
  password: z.preprocess((v) => (v === '' ? undefined : v), newPasswordField.optional()),
});

export interface RowProblem {
  row: number;
  field: string;
  key: string;
  vars?: Record<string, unknown>;
}

export interface ImportReport {
  ok: boolean;
  problems: RowProblem[];
  created: { username: string; displayName: string; password: string | null }[];
  enrolledExisting: string[];
}

export async function importLearners(em: EntityManager, actor: Actor, cohort: Cohort, csv: string): Promise<ImportReport> {
  const problems: RowProblem[] = [];
  let records: Record<string, string>[];
  try {
    records = parse(csv.replace(/^\uFEFF/, ''), { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, relax_column_count: false });
  } catch (err) {
    const line = (err as { lines?: number }).lines ?? 1;
    return fail([{ row: line, field: '', key: 'programmes:import.malformed' }]);
  }
  if (records.length === 0) return fail([{ row: 1, field: '', key: 'programmes:import.empty' }]);
  const header = Object.keys(records[0]!);
  const missing = ['username', 'display_name'].filter((c) => !header.includes(c));
  const unknown = header.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  if (missing.length || unknown.length) {
    return fail([
      ...missing.map((c) => ({ row: 1, field: c, key: 'programmes:import.missingColumn', vars: { column: c } })),
      ...unknown.map((c) => ({ row: 1, field: c, key: 'programmes:import.unknownColumn', vars: { column: c } })),
    ]);
  }

  const rows: { row: number; data: z.output<typeof rowSchema> }[] = [];
  const seen = new Map<string, number>();
  records.forEach((record, i) => {
    const row = i + 2; // the header is row 1, as a spreadsheet shows it
    const parsed = rowSchema.safeParse(record);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push({ row, field: String(issue.path[0]), ...keyFor(issue) });
      }
      return;
    }
    const earlier = seen.get(parsed.data.username);
    if (earlier) problems.push({ row, field: 'username', key: 'programmes:import.duplicateInFile', vars: { other: earlier } });
    seen.set(parsed.data.username, row);
    rows.push({ row, data: parsed.data });
  });

  const existing = await em.find(User, { username: { $in: rows.map((r) => r.data.username) } });
  const byName = new Map(existing.map((u) => [u.username, u]));
  const phones = rows.map((r) => r.data.phone).filter((p): p is string => !!p);
  const phoneOwners = phones.length ? await em.find(User, { phone: { $in: phones } }) : [];
  for (const { row, data } of rows) {
    const user = byName.get(data.username);
    if (user && user.role !== 'learner') problems.push({ row, field: 'username', key: 'programmes:import.notALearner' });
    const owner = phoneOwners.find((u) => u.phone === data.phone);
    if (!user && owner) problems.push({ row, field: 'phone', key: 'accounts:errors.phoneTaken' });
  }
  if (problems.length) return fail(problems);

  const report: ImportReport = { ok: true, problems: [], created: [], enrolledExisting: [] };
  await em.transactional(async (tx) => {
    const c = tx.getReference(Cohort, cohort.id);
    for (const { data } of rows) {
      let user = byName.get(data.username);
      if (user) {
        report.enrolledExisting.push(user.username);
        user = tx.getReference(User, user.id);
      } else {
        const password = data.password ?? oneTimePassword();
        user = tx.create(User, {
          username: data.username,
          displayName: data.display_name,
          role: 'learner',
          phone: data.phone ?? null,
          language: data.language ?? null,
          sex: data.sex ?? null,
          birthYear: data.birth_year ?? null,
          nationality: data.nationality ?? null,
          legalStatus: data.legal_status ?? null,
          disability: data.disability ?? null,
          passwordHash: await hashPassword(password),
          mustChangePassword: !data.password,
          createdBy: actor.id,
        });
        await tx.flush();
        report.created.push({ username: data.username, displayName: data.display_name, password: data.password ? null : password });
      }
      await enrol(tx, c, user);
    }
  });
  return report;

  function fail(list: RowProblem[]): ImportReport {
    return { ok: false, problems: list.sort((a, b) => a.row - b.row), created: [], enrolledExisting: [] };
  }
}
