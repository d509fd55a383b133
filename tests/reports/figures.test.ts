/** Every report's numbers against the hand-worked school of world.ts (see the table there). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, type TestApp } from '../support/app.ts';
import { signIn, type Agent } from '../support/agent.ts';
import { RANGE, TARGET_ENV, figures, makeReportWorld, tableCells } from './world.ts';

let t: TestApp;
let w: Awaited<ReturnType<typeof makeReportWorld>>;
let coordinator: Agent;

beforeAll(async () => {
  // No small cells hidden here: the donor page is compared with the report pages, which hide none.
  t = await bootApp({ ...TARGET_ENV, REPORT_MIN_CELL: '1' });
  w = await makeReportWorld(t.em());
  coordinator = await signIn(t.app, w.coordinatorA.username);
});
afterAll(async () => t.close());

const page = async (path: string) => {
  const res = await coordinator.get(path);
  expect(res.status, res.text.slice(0, 500)).toBe(200);
  return res.text;
};

describe('enrolment', () => {
  it('when broken down by sex, then each learner counts once, in one group, with missing sex as "not stated"', async () => {
    const html = await page(`/reports/enrolment?${RANGE}&by=sex`);
    expect(tableCells(html, 'enrolment')).toEqual([
      // group, enrolled, new, withdrew, active 7, active 30, share active 30
      ['Female', '2', '2', '0', '1', '1', '50%'],
      ['Male', '1', '1', '1', '0', '0', '0%'],
      ['Not stated', '1', '0', '0', '0', '1', '100%'],
      ['Total', '4', '3', '1', '1', '2', '50%'],
    ]);
    expect(figures(html)).toMatchObject({ 'Learners enrolled': '4', 'New enrolments': '3', 'Active in the last 7 days': '1', 'Active in the last 30 days': '2', Withdrawals: '1' });
  });

  it('when the range is six months, then enrolments and withdrawals are counted per month, empty months as zero', async () => {
    const html = await page(`/reports/enrolment?${RANGE}`);
    expect(tableCells(html, 'over-time')).toEqual([
      ['Apr 2026', '0', '0'],
      ['May 2026', '1', '0'],
      ['Jun 2026', '1', '0'],
      ['Jul 2026', '0', '0'],
      ['Aug 2026', '0', '0'],
      ['Sep 2026', '2', '1'],
    ]);
  });

  it('when filtered to a site, then only its classes count', async () => {
    const html = await page(`/reports/enrolment?${RANGE}&site=${w.site.id}`);
    // Class A1 only: l1, l2, l4.
    expect(figures(html)['Learners enrolled']).toBe('3');
  });
});

describe('study hours', () => {
  it('when broken down by age band, then hours, medians and the share on track match the hand count', async () => {
    const html = await page(`/reports/hours?${RANGE}&by=age`);
    expect(tableCells(html, 'hours')).toEqual([
      // group, learners, language avg, soft avg, language median, soft median, on track, share
      ['Under 18', '1', '2 h', '0 h', '2 h', '0 h', '0', '0%'],
      ['25–34', '1', '1 h', '0.5 h', '1 h', '0.5 h', '0', '0%'],
      ['50 and over', '1', '0 h', '0 h', '0 h', '0 h', '0', '0%'],
      ['Not stated', '1', '10 h', '2 h', '10 h', '2 h', '1', '100%'],
      ['Total', '4', '3.3 h', '0.6 h', '1.5 h', '0.3 h', '1', '25%'],
    ]);
    expect(html).toContain('at least 10 hours of language and 2 hours of soft skills');
  });

  it('when filtered to the language course, then only its hours count and only the language target applies', async () => {
    const html = await page(`/reports/hours?${RANGE}&course=${w.L.id}`);
    // Classes offered L: A1 and A2 → l1, l2, l3, l4; language 1, 2, 10, 0 h; on track (≥ 10 h): l3.
    expect(tableCells(html, 'hours')).toEqual([['Total', '4', '3.3 h', '0 h', '1.5 h', '0 h', '1', '25%']]);
  });
});

describe('completion', () => {
  it('when read per course and per unit, then started and completed learners match the hand count', async () => {
    const html = await page(`/reports/completion?${RANGE}`);
    expect(tableCells(html, 'courses')).toEqual([
      ['Finding work', '3', '1', '1', '33%'],
      ['Greek A1', '4', '3', '1', '25%'],
    ]);
    expect(tableCells(html, 'units')).toEqual([
      ['Finding work', 'Unit 1', '1', '3', '1', '33%'],
      ['Greek A1', 'Unit 1', '2', '4', '1', '25%'],
      ['Greek A1', 'Unit 2', '1', '4', '1', '25%'],
    ]);
  });

  it('when broken down by disability, then learners who did not say are "not stated"', async () => {
    const html = await page(`/reports/completion?${RANGE}&by=disability`);
    expect(tableCells(html, 'completion')).toEqual([
      ['With a disability', '1', '2', '0', '0%'],
      ['Without a disability', '1', '2', '2', '100%'],
      ['Not stated', '2', '3', '0', '0%'],
      ['Total', '4', '7', '2', '29%'],
    ]);
  });
});

describe('assignments', () => {
  it('when read, then turn-in rates and the median time to grade match the hand count', async () => {
    const html = await page(`/reports/assignments?${RANGE}`);
    const rows = tableCells(html, 'assignments');
    expect(rows.map((r) => [r[0], ...r.slice(2)])).toEqual([
      ['Assignment X', '2', '1', '50%', '1', '48 h'],
      ['Assignment Y', '2', '1', '50%', '1', '12 h'],
    ]);
    expect(tableCells(html, 'turn-in')).toEqual([['Total', '4', '4', '2', '50%', '30 h']]);
  });

  it('when broken down by legal status, then each group has its own turn-in', async () => {
    const html = await page(`/reports/assignments?${RANGE}&by=legal_status`);
    expect(tableCells(html, 'turn-in')).toEqual([
      ['Refugee', '1', '1', '1', '100%', '48 h'],
      ['Asylum seeker', '1', '1', '0', '0%', '–'],
      ['Not stated', '2', '2', '1', '50%', '12 h'],
      ['Total', '4', '4', '2', '50%', '30 h'],
    ]);
  });
});

describe('quizzes', () => {
  it('when broken down by nationality, then best scores and pass rates match, nationalities named', async () => {
    const html = await page(`/reports/quizzes?${RANGE}&by=nationality`);
    expect(tableCells(html, 'quizzes')).toEqual([['Greek A1', 'Lesson 3', '2', '3', '70', '1', '50%']]);
    expect(tableCells(html, 'scores')).toEqual([
      ['Afghanistan', '1', '1', '40', '0%'],
      ['Syria', '1', '1', '100', '100%'],
      ['Total', '2', '2', '70', '50%'],
    ]);
  });
});

describe('allowances', () => {
  it('when read, then megabytes issued (cancelled left out), budget and data used match per month', async () => {
    const html = await page(`/reports/allowances?${RANGE}`);
    expect(tableCells(html, 'data')).toEqual([['Jul 2026', '2', '1,000', '2,000', '400']]);
    expect(tableCells(html, 'allowance-groups')).toEqual([['Total', '4', '2', '1,000', '400']]);
  });
});

describe('donor page', () => {
  it('when read with a breakdown, then its tables are those of the report pages, though it works out less', async () => {
    for (const by of ['sex', 'nationality']) {
      const donor = await page(`/reports/donor?${RANGE}&by=${by}`);
      const sections: [string, string[]][] = [
        ['enrolment', ['enrolment']],
        ['hours', ['hours']],
        ['completion', ['courses', 'completion']],
        ['assignments', ['turn-in']],
      ];
      for (const [report, ids] of sections) {
        const full = await page(`/reports/${report}?${RANGE}&by=${by}`);
        for (const id of ids) expect(tableCells(donor, id), `${report} ${id} by ${by}`).toEqual(tableCells(full, id));
      }
    }
  });
});

describe('admin', () => {
  it('when an admin reads enrolment, then every programme counts', async () => {
    const admin = await signIn(t.app, w.admin.username);
    const html = (await admin.get(`/reports/enrolment?${RANGE}`)).text;
    expect(figures(html)['Learners enrolled']).toBe('5');
  });
});
