/**
 * The benchmark suite itself works: on a small seeded school (500 learners, its own data folder)
 * every target of `npm run bench` is loaded with 20 requests over 5 connections and answers as a
 * browser expects, and the results file records the machine beside the figures. A fixed number of
 * requests rather than two seconds: on a busy CI machine a slow page might not answer within two
 * seconds, and the figures are not judged here — a shared machine says nothing about speed.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench, type TargetResult } from '../../bench/run.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'dars-bench-smoke-'));
// The embedded PostgreSQL runs as the user postgres when the tests run as root: it must enter the folder.
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench -- --quick', () => {
  it('when the quick bench runs on a seeded school, then every target answers without errors and the results name the machine', { timeout: 600_000 }, async () => {
    const out = path.join(dir, 'quick.json');
    const summary = await runBench({ quick: true, learners: 500, dataDir: path.join(dir, 'data'), durationSeconds: 2, requestsPerTarget: 20, connections: [5], out, pageWeight: false, log: () => {} });

    expect(existsSync(out)).toBe(true);
    const written = JSON.parse(readFileSync(out, 'utf8')) as typeof summary;
    expect(written.machine.cores).toBeGreaterThan(0);
    expect(written.machine.node).toMatch(/^v24\./);
    expect(written.machine.postgres).toMatch(/^\d+\.\d+/);
    expect(written.data.learners).toBeGreaterThanOrEqual(500);

    const targets = written.load.map((r: TargetResult) => r.target);
    expect(targets).toEqual(['lesson page', 'SCORM commit', 'quiz submit', 'grading queue', 'enrolment report']);
    for (const r of written.load) {
      expect(r.skipped, `${r.target}: ${r.skipped}`).toBeUndefined();
      expect(r.requests, r.target).toBeGreaterThan(0);
      expect(r.errors, r.target).toBe(0);
      expect(r.unexpected, `${r.target} answered something other than it should`).toBe(0);
    }
    // Every report page a coordinator can open was timed, and each answered.
    expect(written.reports.length).toBeGreaterThan(1);
    for (const r of written.reports) expect(r.status, r.path).toBe(200);
  });
});
