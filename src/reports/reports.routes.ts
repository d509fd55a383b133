import type { MikroORM } from '@mikro-orm/postgresql';
import express, { type Request, type Response } from 'express';
import { requireActor, requireCapability, type Actor } from '../platform/actor.ts';
import { keyFor } from '../platform/forms.ts';
import { NotFound } from '../platform/errors.ts';
import { formatDateTime } from '../platform/views.ts';
import { chartModel, tableModel, type Reader, type Suppressed, type T } from './present.ts';
import { CsvWriter, csvFileName, writeLearnerRows, writeTable } from './export.ts';
import { reportCapabilities } from './reports.policy.ts';
import { BREAKDOWNS, filtersSchema, type FiltersInput, type ReportFilters } from './reports.schemas.ts';
import { rollupsRefreshedAt } from './rollups.ts';
import { REPORTS, buildReport, donorReport, filterOptions, learnerHours, learnerHoursColumns, settleFilters, type FilterOptions, type HourTargets, type ReportName } from './reports.service.ts';
import type { ReportData } from './report-table.ts';

/** Reports whose figures partly come from the rollups (rollups.ts), and the note that says how recent they are. */
const ROLLUP_REPORTS = new Map<ReportName, string>([
  ['enrolment', 'reports:notes.rollups'],
  ['completion', 'reports:notes.rollups'],
  ['hours', 'reports:notes.rollups'],
  ['assignments', 'reports:notes.rollupsAssignments'],
  ['quizzes', 'reports:notes.rollupsQuizzes'],
  ['allowances', 'reports:notes.rollupsDataUse'],
]);

type Problems = Record<string, { key: string; vars?: Record<string, unknown> }>;

export interface ReportsDeps {
  orm: MikroORM;
  /** Smallest count of people an export shows (REPORT_MIN_CELL). */
  minCell: number;
  targets: HourTargets;
  now?: () => Date;
}

/** The filters as a query string, to carry them into links (CSV, other reports). */
function queryOf(f: ReportFilters): string {
  const q = new URLSearchParams();
  if (f.programmeId) q.set('programme', String(f.programmeId));
  if (f.siteId) q.set('site', String(f.siteId));
  if (f.cohortId) q.set('cohort', String(f.cohortId));
  if (f.courseId) q.set('course', String(f.courseId));
  q.set('from', f.from);
  q.set('to', f.to);
  if (f.by !== 'none') q.set('by', f.by);
  return q.toString();
}

/** A calendar day (YYYY-MM-DD) as the reader writes dates. */
function dayText(day: string, language: string): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${day}T00:00:00Z`));
}

/** The calendar day (YYYY-MM-DD) an instant falls on in a time zone. */
function localDay(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

export function reportsRoutes({ orm, minCell, targets, now = () => new Date() }: ReportsDeps) {
  const router = express.Router();
  const view = requireCapability(reportCapabilities, 'reports:view');
  const em = () => orm.em;

  function readerOf(res: Response, f: Pick<ReportFilters, 'by'>): Reader {
    const actor = requireActor(res);
    return { t: res.locals.t as T, language: (res.locals.language as string | undefined) ?? 'en', timeZone: actor.timeZone, by: f.by, rtl: res.locals.languageDir === 'rtl' };
  }

  const marks = (t: T): Suppressed => ({ count: t('reports:suppressedCount', { min: minCell }), figure: t('reports:suppressedFigure') });

  /**
   * Reads the filters. Bad ones (a date that is not one, a range the wrong way round) are shown
   * beside their fields with what was typed kept, and the report is drawn for the default range.
   */
  async function filtersOf(req: Request, actor: Actor): Promise<{ filters: ReportFilters; options: FilterOptions; errors: Problems | null; values: Record<string, unknown> }> {
    const options = await filterOptions(em(), actor);
    const today = localDay(now(), actor.timeZone);
    const parsed = filtersSchema.safeParse(req.query);
    if (parsed.success) return { filters: settleFilters(parsed.data, options, actor.timeZone, today), options, errors: null, values: {} };
    const problems: Problems = {};
    for (const issue of parsed.error.issues) problems[String(issue.path[0] ?? 'to')] ??= keyFor(issue);
    return { filters: settleFilters({}, options, actor.timeZone, today), options, errors: problems, values: { ...req.query } };
  }

  function filterForm(f: ReportFilters, options: FilterOptions, action: string, values: Record<string, unknown>, errors: Problems | null, t: T) {
    const translated = Object.fromEntries(Object.entries(errors ?? {}).map(([k, p]) => [k, t(p.key, p.vars)]));
    return {
      action,
      programme: f.programmeId,
      site: f.siteId,
      cohort: f.cohortId,
      course: f.courseId,
      from: (values.from as string | undefined) ?? f.from,
      to: (values.to as string | undefined) ?? f.to,
      by: f.by,
      breakdowns: BREAKDOWNS.map((b) => ({ value: b, label: `reports:by.${b}` })),
      options,
      errors: translated,
      hasErrors: errors !== null,
    };
  }

  function pageModel(name: ReportName, data: ReportData, r: Reader, f: ReportFilters) {
    const q = queryOf(f);
    return {
      figures: data.figures.map((fig) => ({ label: r.t(fig.label), value: tableModel({ id: '', title: '', columns: [{ key: 'v', label: '', kind: fig.kind }], rows: [{ v: fig.value }], base: 'v' }, r, '').rows[0]!.cells[0] })),
      charts: data.charts.map((c, i) => chartModel(c, data, r, i)).filter((c) => c !== null),
      tables: data.tables.map((tb) => tableModel(tb, r, `/reports/${name}.csv?${q}&table=${encodeURIComponent(tb.id)}`)),
      notes: data.notes.map((n) => r.t(n.key, n.vars)),
      learnerCsv: name === 'hours' ? `/reports/hours/learners.csv?${q}` : null,
      rangeFrom: dayText(f.from, r.language),
      rangeTo: dayText(f.to, r.language),
    };
  }

  router.get('/reports', view, async (req, res) => {
    const actor = requireActor(res);
    const { filters, options, errors, values } = await filtersOf(req, actor);
    const q = queryOf(filters);
    res.render('reports/index', {
      title: 'reports:index.title',
      form: filterForm(filters, options, '/reports', values, errors, res.locals.t as T),
      reports: REPORTS.map((name) => ({ href: `/reports/${name}?${q}`, title: `reports:${name}.title`, summary: `reports:${name}.summary` })),
      donorHref: `/reports/donor?${q}`,
    });
  });

  for (const name of REPORTS) {
    router.get(`/reports/${name}`, view, async (req, res) => {
      const actor = requireActor(res);
      const { filters, options, errors, values } = await filtersOf(req, actor);
      const data = await buildReport(name, { em: em(), actor, filters, targets, today: localDay(now(), actor.timeZone) });
      const r = readerOf(res, filters);
      const rollupNote = ROLLUP_REPORTS.get(name);
      if (rollupNote) {
        // These figures come from the rollups: say how recent they are.
        const at = await rollupsRefreshedAt(em());
        data.notes.push(at ? { key: rollupNote, vars: { at: formatDateTime(at, r.language, r.timeZone) } } : { key: 'reports:notes.rollupsPending' });
      }
      if (errors) res.status(422);
      res.render('reports/report', {
        title: `reports:${name}.title`,
        name,
        form: filterForm(filters, options, `/reports/${name}`, values, errors, r.t),
        indexHref: `/reports?${queryOf(filters)}`,
        ...pageModel(name, data, r, filters),
      });
    });

    router.get(`/reports/${name}.csv`, view, async (req, res) => {
      const actor = requireActor(res);
      const options = await filterOptions(em(), actor);
      const filters = settleFilters(parseOrNotFound(req.query), options, actor.timeZone, localDay(now(), actor.timeZone));
      const data = await buildReport(name, { em: em(), actor, filters, targets, today: localDay(now(), actor.timeZone) });
      const table = data.tables.find((tb) => tb.id === req.query.table) ?? (req.query.table === undefined ? data.tables[0] : undefined);
      if (!table) throw new NotFound();
      const r = readerOf(res, filters);
      await writeTable(new CsvWriter(res, csvFileName(name, table.id, filters)), table, r, minCell, marks(r.t));
    });
  }

  router.get('/reports/hours/learners.csv', view, async (req, res) => {
    const actor = requireActor(res);
    const options = await filterOptions(em(), actor);
    const filters = settleFilters(parseOrNotFound(req.query), options, actor.timeZone, localDay(now(), actor.timeZone));
    const pages = learnerHours({ em: em().fork(), actor, filters, targets, today: localDay(now(), actor.timeZone) });
    const r = readerOf(res, filters);
    await writeLearnerRows(
      new CsvWriter(res, csvFileName('hours', 'learners', filters)),
      learnerHoursColumns,
      pages,
      (l) => ({ username: l.username, name: l.displayName, languageHours: l.languageHours, softSkillsHours: l.softSkillsHours, onTrack: l.onTrack }),
      r,
    );
  });

  router.get('/reports/donor', view, async (req, res) => {
    const actor = requireActor(res);
    const { filters, options, errors, values } = await filtersOf(req, actor);
    const today = localDay(now(), actor.timeZone);
    const report = await donorReport({ em: em(), actor, filters, targets, today });
    const r = readerOf(res, filters);
    // Enrolment activity, hours and completion come from the rollups: say how recent they are.
    const at = await rollupsRefreshedAt(em());
    const rollups = at ? r.t('reports:notes.rollups', { at: formatDateTime(at, r.language, r.timeZone) }) : r.t('reports:notes.rollupsPending');
    const suppression = { threshold: minCell, marks: marks(r.t) };
    const tables = (data: ReportData, ids: string[]) => data.tables.filter((tb) => ids.includes(tb.id)).map((tb) => tableModel(tb, r, '', suppression));
    const scope = [
      filters.programmeId ? options.programmes.find((p) => p.id === filters.programmeId)?.name : undefined,
      filters.siteId ? options.sites.find((s) => s.id === filters.siteId)?.name : undefined,
      filters.cohortId ? options.cohorts.find((c) => c.id === filters.cohortId)?.name : undefined,
      filters.courseId ? options.courses.find((c) => c.id === filters.courseId)?.title : undefined,
    ].filter((s): s is string => !!s);
    if (errors) res.status(422);
    res.render('reports/donor', {
      title: 'reports:donor.title',
      form: filterForm(filters, options, '/reports/donor', values, errors, r.t),
      scope: scope.length ? scope.join(' · ') : r.t('reports:donor.allProgrammes'),
      rangeFrom: dayText(filters.from, r.language),
      rangeTo: dayText(filters.to, r.language),
      generatedAt: now(),
      minCell,
      sections: [
        { title: r.t('reports:enrolment.title'), tables: tables(report.enrolment, ['enrolment']) },
        { title: r.t('reports:hours.title'), tables: tables(report.hours, ['hours']), notes: [...report.hours.notes.map((n) => r.t(n.key, n.vars)), rollups] },
        { title: r.t('reports:completion.title'), tables: tables(report.completion, ['courses', 'completion']) },
        { title: r.t('reports:assignments.title'), tables: tables(report.assignments, ['turn-in']) },
      ],
    });
  });

  return router;
}

/** An export link with filters that do not parse names nothing to export. */
function parseOrNotFound(query: unknown): FiltersInput {
  const parsed = filtersSchema.safeParse(query);
  if (!parsed.success) throw new NotFound();
  return parsed.data;
}
