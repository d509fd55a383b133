/** Who may read which report, and what bad filters answer. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootApp, type TestApp } from '../support/app.ts';
import { anonymous, signIn } from '../support/agent.ts';
import { RANGE, TARGET_ENV, figures, makeReportWorld } from './world.ts';

let t: TestApp;
let w: Awaited<ReturnType<typeof makeReportWorld>>;

beforeAll(async () => {
  t = await bootApp(TARGET_ENV);
  w = await makeReportWorld(t.em());
});
afterAll(async () => t.close());

const PAGES = ['/reports', '/reports/enrolment', '/reports/completion', '/reports/hours', '/reports/assignments', '/reports/quizzes', '/reports/allowances', '/reports/donor', '/reports/enrolment.csv', '/reports/hours/learners.csv'];

describe('who may read reports', () => {
  it('when a learner or a teacher asks for any report or export, then the answer is 403', async () => {
    for (const who of [w.l1, w.teacherA]) {
      const agent = await signIn(t.app, who.username);
      for (const path of PAGES) expect((await agent.get(path)).status, `${who.role} ${path}`).toBe(403);
    }
  });

  it('when nobody is signed in, then reports send to the sign-in page', async () => {
    const agent = await anonymous(t.app);
    const res = await agent.get('/reports/enrolment');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login');
  });

  it('when a coordinator reads a report, then only their programmes are counted and offered as filters', async () => {
    const a = await signIn(t.app, w.coordinatorA.username);
    const html = (await a.get(`/reports/enrolment?${RANGE}`)).text;
    expect(figures(html)['Learners enrolled']).toBe('4');
    expect(html).toContain(w.programmeA.name);
    expect(html).not.toContain(w.programmeB.name);
    const b = await signIn(t.app, w.coordinatorB.username);
    expect(figures((await b.get(`/reports/enrolment?${RANGE}`)).text)['Learners enrolled']).toBe('1');
  });

  it("when a coordinator names another programme's programme, class or course in the filters, then the answer is 404", async () => {
    const a = await signIn(t.app, w.coordinatorA.username);
    expect((await a.get(`/reports/enrolment?programme=${w.programmeB.id}`)).status).toBe(404);
    expect((await a.get(`/reports/hours?cohort=${w.cb.id}`)).status).toBe(404);
    expect((await a.get(`/reports/hours.csv?programme=${w.programmeB.id}`)).status).toBe(404);
    expect((await a.get(`/reports/hours/learners.csv?cohort=${w.cb.id}`)).status).toBe(404);
    expect((await a.get(`/reports/donor?programme=${w.programmeB.id}`)).status).toBe(404);
  });

  it('when the per-learner export is read by a coordinator, then it lists only their learners', async () => {
    const a = await signIn(t.app, w.coordinatorA.username);
    const csv = (await a.get(`/reports/hours/learners.csv?${RANGE}`)).text;
    for (const l of [w.l1, w.l2, w.l3, w.l4]) expect(csv).toContain(l.username);
    for (const l of [w.b1, w.l5, w.l6]) expect(csv).not.toContain(l.username);
  });
});

describe('bad filters', () => {
  it('when a date is not a date or the range runs backwards, then the page says so beside the field, keeps what was typed and shows the default range', async () => {
    const a = await signIn(t.app, w.coordinatorA.username);
    const bad = await a.get('/reports/hours?from=2026-13-45&to=2026-09-30');
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Enter a date as year-month-day.');
    expect(bad.text).toContain('value="2026-13-45"');
    expect(bad.text).toContain('aria-invalid="true"');
    const backwards = await a.get('/reports/hours?from=2026-09-30&to=2026-04-01');
    expect(backwards.status).toBe(422);
    expect(backwards.text).toContain('The end date must not be before the start date.');
  });

  it('when an export link carries filters that do not parse, then nothing is exported', async () => {
    const a = await signIn(t.app, w.coordinatorA.username);
    expect((await a.get('/reports/hours.csv?from=yesterday')).status).toBe(404);
    expect((await a.get(`/reports/hours.csv?${RANGE}&table=nothing`)).status).toBe(404);
  });
});
