import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, type TestApp } from '../support/app.ts';
import { makeSchool } from '../support/factories.ts';
import { User } from '../../src/accounts/index.ts';
import { Enrolment } from '../../src/programmes/index.ts';

const run = promisify(execFile);
let t: TestApp;
let s: Awaited<ReturnType<typeof makeSchool>>;
beforeAll(async () => {
  t = await bootApp();
  s = await makeSchool(t.em());
});
afterAll(() => t.close());

function cli(csv: string) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'dars-csv-')), 'learners.csv');
  writeFileSync(file, csv);
  return run(process.execPath, ['src/cli/import-learners.ts', file, '--cohort', s.cohortA.enrolmentCode, '--as', s.coordinatorA.username], {
    env: { ...process.env, DATABASE_URL: t.databaseUrl, LOG_LEVEL: 'silent' },
  }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

describe('npm run import:learners', () => {
  it('when a row is wrong, then it lists the row, exits 1 and imports nothing', async () => {
    const r = await cli('username,display_name\nok.name,OK\nbad name,Bad\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Row 3 (username)');
    expect(await t.em().count(User, { username: 'ok.name' })).toBe(0);
  });

  it('when the file is right, then it prints each new learner with a one-time password', async () => {
    const r = await cli('username,display_name\ncli.learner,CLI Learner\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/cli\.learner\t[a-z0-9]{10}\tCLI Learner/);
    expect(await t.em().count(Enrolment, { cohort: s.cohortA.id, learner: { username: 'cli.learner' } })).toBe(1);
  });
});
