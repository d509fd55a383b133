/**
 * The reports: each turns the filters into the tables, figures and charts of one page. All the
 * counting happens in PostgreSQL (queries/); only the aggregated rows come back.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { Course } from '../courses/index.ts';
import type { Actor } from '../platform/actor.ts';
import { Forbidden, NotFound } from '../platform/errors.ts';
import { Cohort, Programme, Site, cohortsManagedBy, programmesVisibleTo } from '../programmes/index.ts';
import { allowanceFigures } from './queries/allowances.ts';
import { assignmentFigures } from './queries/assignments.ts';
import { completionFigures } from './queries/completion.ts';
import { enrolmentByGroup, enrolmentOverTime } from './queries/enrolment.ts';
import { hoursByGroup, learnerHoursPage, type Expected, type LearnerHours } from './queries/hours.ts';
import { quizFigures } from './queries/quizzes.ts';
import { knownGroups, settleRange, settleScope, type Range } from './queries/scope.ts';
import { reportViewer, type ReportViewer } from './reports.policy.ts';
import type { Breakdown, FiltersInput, ReportFilters } from './reports.schemas.ts';
import { percent, splitTotal, type Column, type ReportData, type ReportTable, type Row } from './report-table.ts';

export const REPORTS = ['enrolment', 'completion', 'hours', 'assignments', 'quizzes', 'allowances'] as const;
export type ReportName = (typeof REPORTS)[number];

/** The programme's hour targets per six-month cycle (config: REPORT_LANGUAGE_HOURS, REPORT_SOFT_SKILLS_HOURS). */
export interface HourTargets {
  languageHours: number;
  softSkillsHours: number;
}

export interface FilterOptions {
  programmes: { id: number; name: string }[];
  sites: { id: number; name: string; programme: string }[];
  cohorts: { id: number; name: string; programme: string }[];
  courses: { id: number; title: string }[];
}

/** What the viewer may filter by: their programmes and what hangs off them. */
export async function filterOptions(em: EntityManager, actor: Actor): Promise<FilterOptions> {
  const viewer = requireViewer(actor);
  const programmes = await em.find(Programme, programmesVisibleTo(actor), { orderBy: { name: 'asc' } });
  const ids = programmes.map((p) => p.id);
  const name = new Map(programmes.map((p) => [p.id, p.name]));
  const sites = ids.length ? await em.find(Site, { programme: { $in: ids } }, { orderBy: { name: 'asc' } }) : [];
  const cohorts = await em.find(Cohort, cohortsManagedBy(actor), { orderBy: { name: 'asc' } });
  const courses = viewer.coordinatorId === null ? await em.find(Course, {}, { orderBy: { title: 'asc' } }) : cohorts.length ? await em.find(Course, { offerings: { cohort: { $in: cohorts.map((c) => c.id) } } }, { orderBy: { title: 'asc' } }) : [];
  return {
    programmes: programmes.map((p) => ({ id: p.id, name: p.name })),
    sites: sites.map((s) => ({ id: s.id, name: s.name, programme: name.get(s.programme.id) ?? '' })),
    cohorts: cohorts.map((c) => ({ id: c.id, name: c.name, programme: name.get(c.programme.id) ?? '' })),
    courses: courses.map((c) => ({ id: c.id, title: c.title })),
  };
}

function requireViewer(actor: Actor): ReportViewer {
  if (actor.role !== 'coordinator' && actor.role !== 'admin') throw new Forbidden();
  return reportViewer(actor);
}

/**
 * Settles the filters: a programme, site, cohort or course the viewer may not see names nothing
 * they can report on (404, as for an id that does not exist); the range defaults to the six
 * calendar months up to today (a programme's cycle; whole months read straight from the rollups).
 */
export function settleFilters(input: FiltersInput, options: FilterOptions, timeZone: string, today: string): ReportFilters {
  const known = (id: number | undefined, list: { id: number }[]) => {
    if (id !== undefined && !list.some((o) => o.id === id)) throw new NotFound();
    return id;
  };
  const to = input.to ?? (input.from && input.from > today ? input.from : today);
  const from = input.from ?? sixMonthsBefore(to);
  return {
    programmeId: known(input.programme, options.programmes),
    siteId: known(input.site, options.sites),
    cohortId: known(input.cohort, options.cohorts),
    courseId: known(input.course, options.courses),
    from,
    to,
    by: input.by ?? 'none',
    timeZone,
  };
}

/** The first day of the month five months before `to`'s: six whole calendar months ending with `to`'s month. */
export function sixMonthsBefore(to: string): string {
  const d = new Date(`${to}T00:00:00Z`);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 5, 1)).toISOString().slice(0, 10);
}

const col = (key: string, kind: Column['kind'], label = `reports:col.${key}`): Column => ({ key, label, kind });
const groupColumn = (by: Breakdown) => col('group', 'group', `reports:by.${by}`);

function breakdownTable<R extends { group: string | null }>(id: string, by: Breakdown, rows: R[], columns: Column[], base: string, toRow: (r: R) => Row): ReportTable {
  const { groups, total } = splitTotal(rows, knownGroups(by));
  return {
    id,
    title: `reports:table.${id}`,
    columns: [groupColumn(by), ...columns],
    rows: by === 'none' ? [] : groups.map((g) => ({ group: g.group, ...toRow(g) })),
    total: total ? { group: null, ...toRow(total) } : undefined,
    base,
  };
}

export interface ReportContext {
  em: EntityManager;
  actor: Actor;
  filters: ReportFilters;
  targets: HourTargets;
  today: string;
  /** Only the headline tables (the donor page): tables it does not show are not worked out. */
  headline?: boolean;
}

export async function buildReport(name: ReportName, ctx: ReportContext): Promise<ReportData> {
  const settled = await settle(ctx);
  return builders[name](settled.ctx, settled.viewer, settled.range);
}

/** Who reads, the range as instants and the cohorts in scope, worked out once for all a page reads. */
async function settle(ctx: ReportContext): Promise<{ ctx: ReportContext; viewer: ReportViewer; range: Range }> {
  const viewer = requireViewer(ctx.actor);
  const [range, filters] = await Promise.all([settleRange(ctx.em, ctx.filters), settleScope(ctx.em, viewer, ctx.filters)]);
  return { ctx: { ...ctx, filters }, viewer, range };
}

const builders: Record<ReportName, (ctx: ReportContext, viewer: ReportViewer, range: Range) => Promise<ReportData>> = {
  async enrolment({ em, filters: f, headline }, viewer, range) {
    const unit = Date.parse(range.to) - Date.parse(range.from) > 120 * 86_400_000 ? 'month' : 'week';
    const [groups, periods] = await Promise.all([enrolmentByGroup(em, viewer, f, range), headline ? [] : enrolmentOverTime(em, viewer, f, range, unit)]);
    const toRow = (g: (typeof groups)[number]): Row => ({ enrolled: g.enrolled, joined: g.joined, withdrew: g.withdrew, active7: g.active7, active30: g.active30, activeShare: percent(g.active30, g.enrolled) });
    const table = breakdownTable('enrolment', f.by, groups, [col('enrolled', 'count'), col('joined', 'count'), col('withdrew', 'count'), col('active7', 'count'), col('active30', 'count'), col('activeShare', 'percent')], 'enrolled', toRow);
    const total = groups.find((g) => g.group === null);
    const overTime: ReportTable = {
      id: 'over-time',
      title: `reports:table.overTime.${unit}`,
      columns: [col('period', unit), col('joined', 'count'), col('withdrew', 'count')],
      rows: periods.map((p) => ({ period: p.period, joined: p.joined, withdrew: p.withdrew })),
      base: 'joined',
    };
    return {
      figures: [
        { label: 'reports:col.enrolled', value: total?.enrolled ?? 0, kind: 'count' },
        { label: 'reports:col.joined', value: total?.joined ?? 0, kind: 'count' },
        { label: 'reports:col.active7', value: total?.active7 ?? 0, kind: 'count' },
        { label: 'reports:col.active30', value: total?.active30 ?? 0, kind: 'count' },
        { label: 'reports:col.withdrew', value: total?.withdrew ?? 0, kind: 'count' },
      ],
      tables: [overTime, table],
      charts: [
        { kind: 'line', table: 'over-time', label: 'period', series: ['joined', 'withdrew'], title: `reports:chart.overTime.${unit}` },
        ...(f.by === 'none' ? [] : [{ kind: 'bar' as const, table: 'enrolment', label: 'group', series: ['activeShare'], title: 'reports:chart.activeShare', max: 100 }]),
      ],
      notes: [{ key: 'reports:notes.enrolment' }],
    };
  },

  async completion({ em, filters: f, headline }, viewer, range) {
    const { courses, units, groups } = await completionFigures(em, viewer, f, range, { perUnit: !headline });
    const courseTable: ReportTable = {
      id: 'courses',
      title: 'reports:table.courses',
      columns: [col('course', 'text'), col('learners', 'count'), col('started', 'count'), col('completed', 'count'), col('completionRate', 'percent')],
      rows: courses.map((c) => ({ course: c.title, learners: c.learners, started: c.started, completed: c.completed, completionRate: percent(c.completed, c.learners) })),
      base: 'learners',
    };
    const unitTable: ReportTable = {
      id: 'units',
      title: 'reports:table.units',
      columns: [col('course', 'text'), col('unit', 'text'), col('lessons', 'amount'), col('learners', 'count'), col('completed', 'count'), col('completionRate', 'percent')],
      rows: units.map((u) => ({ course: u.courseTitle, unit: u.title, lessons: u.lessons, learners: u.learners, completed: u.completed, completionRate: percent(u.completed, u.learners) })),
      base: 'learners',
    };
    const groupTable = breakdownTable('completion', f.by, groups, [col('learners', 'count'), col('offered', 'count'), col('completed', 'count'), col('completionRate', 'percent')], 'learners', (g) => ({
      learners: g.learners,
      offered: g.offered,
      completed: g.completed,
      completionRate: percent(g.completed, g.offered),
    }));
    return {
      figures: [
        { label: 'reports:col.learners', value: groups.find((g) => g.group === null)?.learners ?? 0, kind: 'count' },
        { label: 'reports:col.completionRate', value: percent(groups.find((g) => g.group === null)?.completed ?? 0, groups.find((g) => g.group === null)?.offered ?? 0), kind: 'percent' },
      ],
      tables: [courseTable, unitTable, groupTable],
      charts: [
        { kind: 'bar', table: 'courses', label: 'course', series: ['completionRate'], title: 'reports:chart.completionByCourse', max: 100 },
        ...(f.by === 'none' ? [] : [{ kind: 'bar' as const, table: 'completion', label: 'group', series: ['completionRate'], title: 'reports:chart.completionByGroup', max: 100 }]),
      ],
      notes: [{ key: 'reports:notes.completion' }],
    };
  },

  async hours({ em, filters: f, targets, today }, viewer, range) {
    const { expected, subjects } = await expectedHours(em, f, range, targets, today);
    const groups = await hoursByGroup(em, viewer, f, range, expected, today);
    const table = breakdownTable(
      'hours',
      f.by,
      groups,
      [col('learners', 'count'), col('languageAverage', 'hours'), col('softSkillsAverage', 'hours'), col('languageMedian', 'hours'), col('softSkillsMedian', 'hours'), col('onTrack', 'count'), col('onTrackShare', 'percent')],
      'learners',
      (g) => ({
        learners: g.learners,
        languageAverage: g.languageAverage,
        softSkillsAverage: g.softSkillsAverage,
        languageMedian: g.languageMedian,
        softSkillsMedian: g.softSkillsMedian,
        onTrack: g.onTrack,
        onTrackShare: percent(g.onTrack, g.learners),
      }),
    );
    const total = groups.find((g) => g.group === null);
    return {
      figures: [
        { label: 'reports:col.learners', value: total?.learners ?? 0, kind: 'count' },
        { label: 'reports:col.languageMedian', value: total?.languageMedian ?? 0, kind: 'hours' },
        { label: 'reports:col.softSkillsMedian', value: total?.softSkillsMedian ?? 0, kind: 'hours' },
        { label: 'reports:col.onTrackShare', value: percent(total?.onTrack ?? 0, total?.learners ?? 0), kind: 'percent' },
      ],
      tables: [table],
      charts: [
        { kind: 'stacked', table: 'hours', label: 'group', series: ['languageAverage', 'softSkillsAverage'], title: 'reports:chart.hours' },
        { kind: 'bar', table: 'hours', label: 'group', series: ['onTrackShare'], title: 'reports:chart.onTrack', max: 100 },
      ],
      notes: [
        {
          key: 'reports:notes.hours',
          vars: { language: targets.languageHours, softSkills: targets.softSkillsHours, expectedLanguage: round1(expected.languageSeconds / 3600), expectedSoftSkills: round1(expected.softSkillsSeconds / 3600) },
        },
        ...(subjects.length === 1 ? [{ key: `reports:notes.hoursOneSubject.${subjects[0]}` }] : []),
      ],
    };
  },

  async assignments({ em, filters: f, headline }, viewer, range) {
    const { assignments, groups } = await assignmentFigures(em, viewer, f, range, { perAssignment: !headline });
    const assignmentTable: ReportTable = {
      id: 'assignments',
      title: 'reports:table.assignments',
      columns: [col('assignment', 'text'), col('dueAt', 'date'), col('expected', 'count'), col('turnedIn', 'count'), col('turnInRate', 'percent'), col('graded', 'count'), col('medianTurnaround', 'seconds')],
      rows: assignments.map((a) => ({ assignment: a.title, dueAt: a.dueAt, expected: a.expected, turnedIn: a.turnedIn, turnInRate: percent(a.turnedIn, a.expected), graded: a.graded, medianTurnaround: a.medianTurnaround })),
      base: 'expected',
    };
    const groupTable = breakdownTable('turn-in', f.by, groups, [col('learners', 'count'), col('expected', 'count'), col('turnedIn', 'count'), col('turnInRate', 'percent'), col('medianTurnaround', 'seconds')], 'learners', (g) => ({
      learners: g.learners,
      expected: g.expected,
      turnedIn: g.turnedIn,
      turnInRate: percent(g.turnedIn, g.expected),
      medianTurnaround: g.medianTurnaround,
    }));
    const total = groups.find((g) => g.group === null);
    return {
      figures: [
        { label: 'reports:col.turnInRate', value: percent(total?.turnedIn ?? 0, total?.expected ?? 0), kind: 'percent' },
        { label: 'reports:col.medianTurnaround', value: total?.medianTurnaround ?? null, kind: 'seconds' },
      ],
      tables: [assignmentTable, groupTable],
      charts: [{ kind: 'bar', table: f.by === 'none' ? 'assignments' : 'turn-in', label: f.by === 'none' ? 'assignment' : 'group', series: ['turnInRate'], title: 'reports:chart.turnIn', max: 100 }],
      notes: [{ key: 'reports:notes.assignments' }],
    };
  },

  async quizzes({ em, filters: f }, viewer, range) {
    const { quizzes, groups } = await quizFigures(em, viewer, f, range);
    const quizTable: ReportTable = {
      id: 'quizzes',
      title: 'reports:table.quizzes',
      columns: [col('course', 'text'), col('quiz', 'text'), col('learners', 'count'), col('attempts', 'amount'), col('averageScore', 'score'), col('passed', 'count'), col('passRate', 'percent')],
      rows: quizzes.map((q) => ({ course: q.courseTitle, quiz: q.title, learners: q.learners, attempts: q.attempts, averageScore: q.averageBest, passed: q.passed, passRate: percent(q.passed, q.learners) })),
      base: 'learners',
    };
    const groupTable = breakdownTable('scores', f.by, groups, [col('learners', 'count'), col('taken', 'count'), col('averageScore', 'score'), col('passRate', 'percent')], 'learners', (g) => ({
      learners: g.learners,
      taken: g.taken,
      averageScore: g.averageBest,
      passRate: percent(g.passed, g.taken),
    }));
    const total = groups.find((g) => g.group === null);
    return {
      figures: [
        { label: 'reports:col.learners', value: total?.learners ?? 0, kind: 'count' },
        { label: 'reports:col.averageScore', value: total?.averageBest ?? null, kind: 'score' },
        { label: 'reports:col.passRate', value: percent(total?.passed ?? 0, total?.taken ?? 0), kind: 'percent' },
      ],
      tables: [quizTable, groupTable],
      charts: [
        f.by === 'none'
          ? { kind: 'bar', table: 'quizzes', label: 'quiz', series: ['averageScore'], title: 'reports:chart.quizScores', max: 100 }
          : { kind: 'bar', table: 'scores', label: 'group', series: ['averageScore'], title: 'reports:chart.quizScoresByGroup', max: 100 },
      ],
      notes: [{ key: 'reports:notes.quizzes' }],
    };
  },

  async allowances({ em, filters: f }, viewer, range) {
    const { months, groups } = await allowanceFigures(em, viewer, f, range);
    const data: ReportTable = {
      id: 'data',
      title: 'reports:table.data',
      columns: [col('month', 'month'), col('learnersIssued', 'count'), col('issuedMegabytes', 'amount'), col('budgetMegabytes', 'amount'), col('usedMegabytes', 'amount')],
      rows: months.filter((m) => m.unit === 'megabytes').map((m) => ({ month: m.month, learnersIssued: m.learners, issuedMegabytes: m.issued, budgetMegabytes: m.budget, usedMegabytes: m.usedMegabytes })),
      base: 'learnersIssued',
    };
    const airtime: ReportTable = {
      id: 'airtime',
      title: 'reports:table.airtime',
      columns: [col('month', 'month'), col('currency', 'text'), col('learnersIssued', 'count'), col('issuedMinor', 'amount'), col('budgetMinor', 'amount')],
      rows: months.filter((m) => m.unit === 'airtime').map((m) => ({ month: m.month, currency: m.currency, learnersIssued: m.learners, issuedMinor: m.issued, budgetMinor: m.budget })),
      base: 'learnersIssued',
    };
    const groupTable = breakdownTable('allowance-groups', f.by, groups, [col('learners', 'count'), col('learnersIssued', 'count'), col('issuedMegabytes', 'amount'), col('usedMegabytes', 'amount')], 'learners', (g) => ({
      learners: g.learners,
      learnersIssued: g.issuedLearners,
      issuedMegabytes: g.issuedMegabytes,
      usedMegabytes: g.usedMegabytes,
    }));
    const total = groups.find((g) => g.group === null);
    const budget = data.rows.reduce((s, r) => s + Number(r.budgetMegabytes ?? 0), 0);
    return {
      figures: [
        { label: 'reports:col.issuedMegabytes', value: total?.issuedMegabytes ?? 0, kind: 'amount' },
        { label: 'reports:col.budgetMegabytes', value: budget, kind: 'amount' },
        { label: 'reports:col.usedMegabytes', value: total?.usedMegabytes ?? 0, kind: 'amount' },
      ],
      tables: airtime.rows.length ? [data, airtime, groupTable] : [data, groupTable],
      charts: [{ kind: 'line', table: 'data', label: 'month', series: ['issuedMegabytes', 'budgetMegabytes', 'usedMegabytes'], title: 'reports:chart.allowances' }],
      notes: [{ key: 'reports:notes.allowances' }],
    };
  },
};

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * Hours a learner should have by the end of the range (or today, if sooner) to be on track: the
 * six-month targets spread evenly over the six months that start with the range. A course filter
 * leaves out the other subject's target.
 */
async function expectedHours(em: EntityManager, f: ReportFilters, range: Range, targets: HourTargets, today: string): Promise<{ expected: Expected; subjects: string[] }> {
  let subjects = ['language', 'soft-skills'];
  if (f.courseId) {
    const course = await em.findOneOrFail(Course, f.courseId);
    subjects = [course.subject];
  }
  const day = 86_400_000;
  const cycleEnd = Date.parse(`${sixMonthsAfter(range.from)}T00:00:00Z`);
  const start = Date.parse(`${range.from}T00:00:00Z`);
  const until = Math.min(Date.parse(`${range.to}T00:00:00Z`), Date.parse(`${today}T00:00:00Z`)) + day;
  const share = Math.max(0, Math.min(1, (until - start) / (cycleEnd - start)));
  return {
    subjects,
    expected: {
      languageSeconds: subjects.includes('language') ? Math.round(targets.languageHours * 3600 * share) : 0,
      softSkillsSeconds: subjects.includes('soft-skills') ? Math.round(targets.softSkillsHours * 3600 * share) : 0,
    },
  };
}

function sixMonthsAfter(from: string): string {
  const d = new Date(`${from}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 6);
  return d.toISOString().slice(0, 10);
}

/** The per-learner hours, page by page, for the CSV export. */
export async function* learnerHours(context: ReportContext): AsyncGenerator<LearnerHours[]> {
  const { ctx, viewer, range } = await settle(context);
  const filters = ctx.filters;
  const { expected } = await expectedHours(ctx.em, filters, range, ctx.targets, ctx.today);
  let after = 0;
  for (;;) {
    const page = await learnerHoursPage(ctx.em, viewer, filters, range, expected, ctx.today, after);
    if (page.length === 0) return;
    yield page;
    after = page[page.length - 1]!.id;
  }
}

export const learnerHoursColumns: Column[] = [col('username', 'text'), col('name', 'text'), col('languageHours', 'hours'), col('softSkillsHours', 'hours'), col('onTrack', 'yesNo', 'reports:col.isOnTrack')];

/** The donor report: the headline tables of enrolment, hours, completion and turn-in on one printable page. */
export async function donorReport(ctx: ReportContext): Promise<{ enrolment: ReportData; hours: ReportData; completion: ReportData; assignments: ReportData }> {
  const { ctx: settled, viewer, range } = await settle({ ...ctx, headline: true });
  const build = (name: ReportName) => builders[name](settled, viewer, range);
  // Two at a time, one pair per core: four statements side by side on two cores cost a tenth more
  // CPU (they evict each other's pages and caches) and finished no sooner.
  const [[enrolment, completion], [hours, assignments]] = await Promise.all([
    build('enrolment').then(async (e) => [e, await build('completion')] as const),
    build('hours').then(async (h) => [h, await build('assignments')] as const),
  ]);
  return { enrolment, hours, completion, assignments };
}
