/** CSV exports: the filters in the file name, small cells suppressed, figures as plain numbers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, type TestApp } from '../support/app.ts';
import { signIn, type Agent } from '../support/agent.ts';
import { RANGE, TARGET_ENV, csvRows, makeReportWorld, tableCells } from './world.ts';

let t: TestApp;
let w: Awaited<ReturnType<typeof makeReportWorld>>;
let coordinator: Agent;

beforeAll(async () => {
  // Suppress counts of fewer than 2 people, so the small world has cells on both sides of the line.
  t = await bootApp({ ...TARGET_ENV, REPORT_MIN_CELL: '2' });
  w = await makeReportWorld(t.em());
  coordinator = await signIn(t.app, w.coordinatorA.username);
});
afterAll(async () => t.close());

describe('CSV export', () => {
  it('when a breakdown is exported, then counts under the threshold become "<2", every figure of such a group is hidden (even a zero tells about its one member), and zero stays elsewhere', async () => {
    const res = await coordinator.get(`/reports/enrolment.csv?${RANGE}&by=sex&table=enrolment`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe('attachment; filename="dars_enrolment_enrolment_2026-04-01_2026-09-30_by-sex.csv"');
    expect(csvRows(res.text)).toEqual([
      ['Sex', 'Learners enrolled', 'New enrolments', 'Withdrawals', 'Active in the last 7 days', 'Active in the last 30 days', 'Share active in the last 30 days'],
      ['Female', '2', '2', '0', '<2', '<2', '50'],
      ['Male', '<2', '<2', '<2', '<2', '<2', 'hidden'],
      ['Not stated', '<2', '<2', '<2', '<2', '<2', 'hidden'],
      ['Total', '4', '3', '<2', '<2', '2', '50'],
    ]);
  });

  it('when the same table is shown on the page, then nothing is suppressed there', async () => {
    const html = (await coordinator.get(`/reports/enrolment?${RANGE}&by=sex`)).text;
    expect(tableCells(html, 'enrolment')[1]).toEqual(['Male', '1', '1', '1', '0', '0', '0%']);
  });

  it('when filters are chosen, then the file name carries every one of them', async () => {
    const res = await coordinator.get(`/reports/hours.csv?${RANGE}&programme=${w.programmeA.id}&site=${w.site.id}&cohort=${w.a1.id}&course=${w.L.id}&by=age`);
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="dars_hours_hours_programme-${w.programmeA.id}_site-${w.site.id}_cohort-${w.a1.id}_course-${w.L.id}_2026-04-01_2026-09-30_by-age.csv"`,
    );
  });

  it('when every table of every report is exported, then each is a CSV with its heading row and suppressed small cells', async () => {
    const tables: Record<string, string[]> = {
      enrolment: ['over-time', 'enrolment'],
      completion: ['courses', 'units', 'completion'],
      hours: ['hours'],
      assignments: ['assignments', 'turn-in'],
      quizzes: ['quizzes', 'scores'],
      allowances: ['data', 'allowance-groups'],
    };
    for (const [report, ids] of Object.entries(tables)) {
      for (const id of ids) {
        const res = await coordinator.get(`/reports/${report}.csv?${RANGE}&by=sex&table=${id}`);
        expect(res.status, `${report} ${id}`).toBe(200);
        const rows = csvRows(res.text);
        expect(rows.length, `${report} ${id}`).toBeGreaterThan(1);
        // No cell counts a single person (the number of lessons in a unit counts no one).
        const people = rows[0]!.map((heading) => heading !== 'Lessons');
        for (const row of rows.slice(1)) row.forEach((cell, i) => people[i] && expect(cell, `${report} ${id} ${rows[0]![i]}`).not.toBe('1'));
      }
    }
  });

  it('when the per-learner hours are exported, then each learner has a row with their own hours', async () => {
    const res = await coordinator.get(`/reports/hours/learners.csv?${RANGE}`);
    expect(res.headers['content-disposition']).toBe('attachment; filename="dars_hours_learners_2026-04-01_2026-09-30.csv"');
    const rows = csvRows(res.text);
    expect(rows[0]).toEqual(['Username', 'Name', 'Language hours', 'Soft-skills hours', 'On track']);
    const byUser = new Map(rows.slice(1).map((r) => [r[0], r.slice(2)]));
    expect(byUser.get(w.l1.username)).toEqual(['1', '0.5', 'No']);
    expect(byUser.get(w.l3.username)).toEqual(['10', '2', 'Yes']);
    expect(rows).toHaveLength(5);
  });

  it('when the donor report is printed, then small counts are hidden on it too', async () => {
    const res = await coordinator.get(`/reports/donor?${RANGE}&by=sex`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('numbers of fewer than 2 people are not shown');
    const male = tableCells(res.text, 'enrolment').find((r) => r[0] === 'Male');
    expect(male).toEqual(['Male', '<2', '<2', '<2', '<2', '<2', 'hidden']);
  });
});
