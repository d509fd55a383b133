import type { MikroORM } from '@mikro-orm/postgresql';
import express, { type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { requireActor, requireCapability } from '../platform/actor.ts';
import { InvalidInput } from '../platform/errors.ts';
import { formHandler, parseForm, parseParams } from '../platform/forms.ts';
import { memoryUpload } from '../platform/uploads.ts';
import { formatBytes } from '../platform/views.ts';
import { type AllowanceSchemeVersion, type AllowanceUnit, ISSUE_STATUSES, RULES, UNITS } from './allowance.entity.ts';
import { allowanceCapabilities } from './allowances.policy.ts';
import { cancelSchema, idParam, issueParam, issueSchema, learnerParam, newSchemeSchema, periodParam, termsSchema, usageQuery } from './allowances.schemas.ts';
import type { EligibilityFacts, Reason } from './eligibility.ts';
import { amountText, dayText, monthText, periodText } from './format.ts';
import * as handoff from './handoff.ts';
import { type HistoryEntry, history, referenceOf } from './ledger.ts';
import * as issuing from './issuing.service.ts';
import { PERIOD_KINDS, addMonths, monthOf, todayIn } from './periods.ts';
import * as schemes from './schemes.service.ts';
import * as usage from './usage.service.ts';

export interface AllowancesDeps {
  orm: MikroORM;
  facts: EligibilityFacts;
  /** How allowances reach the operator; the CSV hand-off unless a top-up API is configured. */
  adapter?: handoff.TopUpAdapter;
  csvLimitBytes: number;
}

type T = (key: string, vars?: Record<string, unknown>) => string;
const tOf = (res: Response) => res.locals.t as T;
const langOf = (res: Response) => (res.locals.language as string | undefined) ?? 'en';
const say = (res: Response, reason: Reason) => tOf(res)(reason.key, reason.vars);

export function allowancesRoutes({ orm, facts, adapter = handoff.csvAdapter, csvLimitBytes }: AllowancesDeps) {
  const router = express.Router();
  const manage = requireCapability(allowanceCapabilities, 'allowances:manage');
  const own = requireCapability(allowanceCapabilities, 'allowances:viewOwn');
  const em = () => orm.em;

  /** One line saying what a version promises, e.g. "500 MB a month · at least 4 lessons in the previous period". */
  function terms(res: Response, v: AllowanceSchemeVersion) {
    const t = tOf(res);
    const lang = langOf(res);
    return {
      amount: t(`allowances:per.${v.period}`, { amount: amountText(v.amount, v.unit, v.currency ?? null, lang) }),
      budget: t(`allowances:budgetPer.${v.period}`, { amount: amountText(v.budget, v.unit, v.currency ?? null, lang) }),
      rule: t(`allowances:rule.${v.rule}`, { count: v.threshold }),
      scope: v.cohortIds.length || v.siteIds.length ? t('allowances:scope.limited', { cohorts: v.cohortIds.length, sites: v.siteIds.length }) : t('allowances:scope.all'),
      startsOn: dayText(v.startsOn, lang),
    };
  }

  router.get('/allowances', manage, async (_req, res) => {
    const list = await schemes.listSchemes(em(), requireActor(res));
    res.render('allowances/index', {
      title: 'allowances:index.title',
      programmes: list.map(({ programme, schemes: s }) => ({
        id: programme.id,
        name: programme.name,
        schemes: s.map(({ scheme, latest }) => ({ id: scheme.id, name: scheme.name, terms: terms(res, latest) })),
      })),
    });
  });

  // ── Schemes ────────────────────────────────────────────────────────────
  const schemeFormChoices = (res: Response, cohorts: { id: number; name: string }[], sites: { id: number; name: string }[], picked: { cohortIds: number[]; siteIds: number[] }) => {
    const t = tOf(res);
    return {
      units: UNITS.map((u) => ({ value: u, label: t(`allowances:unit.${u}`) })),
      periods: PERIOD_KINDS.map((p) => ({ value: p, label: t(`allowances:period.${p}`) })),
      rules: RULES.map((r) => ({ value: r, label: t(`allowances:ruleChoice.${r}`) })),
      cohorts: cohorts.map((c) => ({ id: c.id, name: c.name, checked: picked.cohortIds.includes(c.id) })),
      sites: sites.map((s) => ({ id: s.id, name: s.name, checked: picked.siteIds.includes(s.id) })),
    };
  };
  /** Checkbox choices from the form being re-shown, else from the stored version. */
  const pickedFrom = (req: Request, fallback: { cohortIds: number[]; siteIds: number[] }) => {
    if (req.method !== 'POST') return fallback;
    const ids = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(Number);
    const body = (req.body ?? {}) as Record<string, unknown>;
    return { cohortIds: ids(body.cohortIds), siteIds: ids(body.siteIds) };
  };

  const newSchemePage = {
    view: 'allowances/scheme-form',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const { id } = parseParams(idParam, req.params);
      const programme = await schemes.payableProgramme(em(), actor, id);
      const today = todayIn(actor.timeZone);
      return {
        title: 'allowances:schemeForm.newTitle',
        isNew: true,
        action: `/allowances/programmes/${programme.id}/schemes`,
        programme: { id: programme.id, name: programme.name },
        values: { unit: 'megabytes', period: 'monthly', rule: 'enrolled', startsOn: monthOf(today).start },
        ...schemeFormChoices(res, programme.cohorts.getItems(), programme.sites.getItems(), pickedFrom(req, { cohortIds: [], siteIds: [] })),
      };
    },
  };
  router.get('/allowances/programmes/:id/schemes/new', manage, async (req, res) => res.render(newSchemePage.view, await newSchemePage.model(req, res)));
  router.post(
    '/allowances/programmes/:id/schemes',
    manage,
    formHandler(newSchemePage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      const scheme = await schemes.createScheme(em(), requireActor(res), id, parseForm(newSchemeSchema, req.body));
      req.session.notice = { key: 'allowances:schemeForm.created', vars: { name: scheme.name } };
      res.redirect(303, `/allowances/schemes/${scheme.id}`);
    }),
  );

  router.get('/allowances/schemes/:id', manage, async (req, res) => {
    const actor = requireActor(res);
    const { id } = parseParams(idParam, req.params);
    const { scheme, versions, timeline } = await schemes.getScheme(em(), actor, id);
    const lang = langOf(res);
    const today = todayIn(actor.timeZone);
    const periods = schemes.nearbyPeriods(timeline, today);
    const counts = await issuing.issuedCounts(em(), scheme.id, periods.map((p) => p.start));
    const current = schemes.versionAt(timeline, today) ?? versions[0]!;
    const batches = await issuing.batchesOf(em(), scheme.id);
    res.render('allowances/scheme', {
      title: 'allowances:scheme.title',
      scheme: { id: scheme.id, name: scheme.name, programme: scheme.programme.getEntity().name, programmeId: scheme.programme.id },
      current: terms(res, current),
      versions: versions
        .slice()
        .reverse()
        .map((v) => ({ version: v.version, terms: terms(res, v), note: v.note, by: v.createdBy.getEntity().displayName, at: v.createdAt, active: v.id === current.id })),
      periods: periods.map((p) => ({
        start: p.start,
        label: periodText(p, lang),
        current: p.start <= today && today < p.end,
        future: p.start > today,
        issued: counts.get(p.start)?.count ?? 0,
      })),
      batches: batches.map((b) => ({
        id: b.id,
        period: periodText({ start: b.periodStart, end: b.periodEnd }, lang),
        issued: b.issuedCount,
        at: b.createdAt,
        by: b.createdBy.getEntity().displayName,
      })),
    });
  });

  const changePage = {
    view: 'allowances/scheme-form',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const { id } = parseParams(idParam, req.params);
      const { scheme, versions, timeline } = await schemes.getScheme(em(), actor, id);
      const programme = await schemes.payableProgramme(em(), actor, scheme.programme.id);
      const latest = versions[versions.length - 1]!;
      const earliest = await schemes.earliestChange(em(), scheme, timeline, actor);
      return {
        title: 'allowances:schemeForm.changeTitle',
        isNew: false,
        action: `/allowances/schemes/${scheme.id}/versions`,
        scheme: { id: scheme.id, name: scheme.name },
        programme: { id: programme.id, name: programme.name },
        earliest: dayText(earliest, langOf(res)),
        values: {
          unit: latest.unit,
          currency: latest.currency ?? '',
          amount: latest.amount,
          period: latest.period,
          startsOn: earliest,
          budget: latest.budget,
          rule: latest.rule,
          threshold: latest.rule === 'lessons' || latest.rule === 'minutes' ? latest.threshold : '',
        },
        ...schemeFormChoices(res, programme.cohorts.getItems(), programme.sites.getItems(), pickedFrom(req, { cohortIds: latest.cohortIds, siteIds: latest.siteIds })),
      };
    },
  };
  router.get('/allowances/schemes/:id/change', manage, async (req, res) => res.render(changePage.view, await changePage.model(req, res)));
  router.post(
    '/allowances/schemes/:id/versions',
    manage,
    formHandler(changePage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      const input = parseForm(termsSchema, req.body);
      await schemes.addVersion(em(), requireActor(res), id, input);
      req.session.notice = { key: 'allowances:schemeForm.changed', vars: { date: dayText(input.startsOn, langOf(res)) } };
      res.redirect(303, `/allowances/schemes/${id}`);
    }),
  );

  // ── Eligibility preview and issuing ───────────────────────────────────
  router.get('/allowances/schemes/:id/periods/:start', manage, async (req, res) => {
    const actor = requireActor(res);
    const { id, start } = parseParams(periodParam, req.params);
    const p = await issuing.preview(em(), actor, facts, id, start);
    const t = tOf(res);
    const lang = langOf(res);
    const money = (n: number) => amountText(n, p.version.unit, p.version.currency ?? null, lang);
    res.render('allowances/preview', {
      title: 'allowances:preview.title',
      scheme: { id: p.scheme.id, name: p.scheme.name },
      period: { start: p.period.start, label: periodText(p.period, lang) },
      previous: periodText(p.previous, lang),
      terms: terms(res, p.version),
      started: p.started,
      rows: p.rows.map((r) => ({
        learnerId: r.learnerId,
        displayName: r.displayName,
        username: r.username,
        cohorts: r.cohorts.join(', '),
        state: r.state,
        stateLabel: t(`allowances:state.${r.state}`),
        reason: say(res, r.reason),
        blockedBy: r.blockedBy ? say(res, r.blockedBy) : null,
        phone: r.phone,
        operator: r.operator ?? t('allowances:operatorUnknown'),
        amount: r.state === 'eligible' ? money(p.version.amount) : null,
        issue: r.issue ? { batchId: r.issue.batchId, status: t(`allowances:status.${r.issue.status}`) } : null,
      })),
      totals: {
        eligible: p.totals.eligible,
        blocked: p.rows.filter((r) => r.state === 'blocked').length,
        eligibleAmount: money(p.totals.eligibleAmount),
        committed: money(p.totals.committed),
        budget: money(p.totals.budget),
        remaining: money(p.totals.remaining),
        fit: p.totals.fit,
        short: p.totals.shortBy > 0,
        shortBy: money(p.totals.shortBy),
      },
      canIssue: p.started && p.totals.fit > 0,
      key: randomUUID(),
    });
  });

  router.post('/allowances/schemes/:id/periods/:start/issue', manage, async (req, res) => {
    const actor = requireActor(res);
    const { id, start } = parseParams(periodParam, req.params);
    // Whose scheme it is is answered before what the form says: another programme's scheme is a 404.
    await schemes.getScheme(em(), actor, id);
    const { key } = parseForm(issueSchema, req.body);
    const outcome = await issuing.issueBatch(em(), actor, facts, id, start, key);
    const back = `/allowances/schemes/${id}/periods/${start}`;
    switch (outcome.kind) {
      case 'issued':
        req.session.notice = outcome.leftOut
          ? { key: 'allowances:issue.budgetStopped', vars: { count: outcome.issued, leftOut: outcome.leftOut } }
          : { key: 'allowances:issue.done', vars: { count: outcome.issued } };
        return res.redirect(303, `/allowances/batches/${outcome.batchId}`);
      case 'repeated':
        req.session.notice = { key: 'allowances:issue.repeated' };
        return res.redirect(303, `/allowances/batches/${outcome.batchId}`);
      case 'nobodyLeft':
        req.session.notice = { key: 'allowances:issue.nobodyLeft' };
        return res.redirect(303, back);
      case 'budgetSpent':
        req.session.notice = { key: 'allowances:issue.budgetSpent', vars: { count: outcome.leftOut } };
        return res.redirect(303, back);
    }
  });

  // ── Batches: hand-off, confirmations, corrections ─────────────────────
  const batchPage = {
    view: 'allowances/batch',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const { id } = parseParams(idParam, req.params);
      const batch = await handoff.getBatch(em(), actor, id);
      const t = tOf(res);
      const lang = langOf(res);
      const list = await handoff.issuesOf(em(), batch.id);
      const counts = Object.fromEntries(ISSUE_STATUSES.map((s) => [s, list.filter((i) => i.status === s).length]));
      const programmeId = batch.scheme.getEntity().programme.id;
      return {
        title: 'allowances:batch.title',
        batch: {
          id: batch.id,
          scheme: batch.scheme.getEntity().name,
          schemeId: batch.scheme.id,
          period: periodText({ start: batch.periodStart, end: batch.periodEnd }, lang),
          periodStart: batch.periodStart,
          issued: batch.issuedCount,
          leftOut: batch.leftOutForBudget,
          at: batch.createdAt,
          by: batch.createdBy.getEntity().displayName,
          adapter: adapter.name,
        },
        counts: ISSUE_STATUSES.filter((s) => counts[s]).map((s) => t('allowances:batch.count', { count: counts[s], status: t(`allowances:status.${s}`) })),
        canSend: (counts.pending ?? 0) > 0,
        canConfirm: (counts.sent ?? 0) > 0,
        handoffs: (await handoff.handoffsOf(em(), batch.id)).map((h) => ({ ...h, url: `/allowances/batches/${batch.id}/handoffs/${h.handoff}` })),
        issues: list.map((i) => ({
          id: i.id,
          learnerId: i.learner.id,
          programmeId,
          displayName: i.learner.getEntity().displayName,
          phone: i.phone,
          operator: i.operator ?? t('allowances:operatorUnknown'),
          amount: amountText(i.amount, i.unit, i.currency ?? null, lang),
          status: i.status,
          statusLabel: t(`allowances:status.${i.status}`),
          reference: i.attempt > 0 ? referenceOf(i) : null,
          transactionId: i.operatorTransactionId,
          canResend: i.status === 'failed',
          canCancel: i.status === 'pending' || i.status === 'failed',
        })),
        entries: entriesModel(res, await history(em(), { batch: batch.id })),
      };
    },
  };
  router.get('/allowances/batches/:id', manage, async (req, res) => res.render(batchPage.view, await batchPage.model(req, res)));

  router.post('/allowances/batches/:id/send', manage, async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    const sent = await handoff.sendBatch(em(), requireActor(res), adapter, id);
    req.session.notice = { key: adapter === handoff.csvAdapter ? 'allowances:batch.sentFile' : 'allowances:batch.sent', vars: { count: sent.count } };
    res.redirect(303, `/allowances/batches/${id}`);
  });

  router.get('/allowances/batches/:id/handoffs/:handoff', manage, async (req, res) => {
    const { id, handoff: h } = parseParams(z.object({ id: z.coerce.number().int().positive(), handoff: z.uuid() }), req.params);
    const file = await handoff.handoffFile(em(), requireActor(res), id, h);
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="dars-batch-${id}-${h.slice(0, 8)}.csv"`);
    res.send(file);
  });

  router.post(
    '/allowances/batches/:id/confirmations',
    manage,
    memoryUpload('file', { maxBytes: csvLimitBytes }),
    formHandler(batchPage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      if (!req.file || req.file.size === 0) throw new InvalidInput({ file: { key: 'allowances:confirm.noFile' } });
      const text = new TextDecoder('utf-8', { fatal: false }).decode(req.file.buffer);
      const report = await handoff.importConfirmations(em(), requireActor(res), id, text);
      const t = tOf(res);
      res.status(report.ok ? 200 : 422).render('allowances/confirmation-report', {
        title: 'allowances:confirm.title',
        batchId: id,
        report: {
          ok: report.ok,
          applied: report.applied,
          fileProblem: report.fileProblem ? t(report.fileProblem.key, report.fileProblem.vars) : null,
          rows: report.rows.map((r) => ({
            row: r.row,
            reference: r.reference,
            problem: r.outcome === 'problem',
            outcome: r.outcome === 'problem' ? t(r.problem!.key, r.problem!.vars) : t(`allowances:confirm.outcome.${r.outcome}`),
          })),
        },
      });
    }),
  );

  router.post('/allowances/batches/:id/issues/:issueId/resend', manage, async (req, res) => {
    const { id, issueId } = parseParams(issueParam, req.params);
    await handoff.resend(em(), requireActor(res), adapter, id, issueId);
    req.session.notice = { key: adapter === handoff.csvAdapter ? 'allowances:batch.resentFile' : 'allowances:batch.resent' };
    res.redirect(303, `/allowances/batches/${id}`);
  });

  router.post(
    '/allowances/batches/:id/issues/:issueId/cancel',
    manage,
    formHandler(batchPage, async (req, res) => {
      const { id, issueId } = parseParams(issueParam, req.params);
      const { note } = parseForm(cancelSchema, req.body);
      await handoff.cancel(em(), requireActor(res), id, issueId, note);
      req.session.notice = { key: 'allowances:batch.cancelled' };
      res.redirect(303, `/allowances/batches/${id}`);
    }),
  );

  // ── Histories and use ─────────────────────────────────────────────────
  function entriesModel(res: Response, entries: HistoryEntry[]) {
    const t = tOf(res);
    const lang = langOf(res);
    return entries.map((e) => ({
      at: e.at,
      kind: t(`allowances:kind.${e.kind}`),
      learner: e.learner.displayName,
      by: e.actor.displayName,
      amount: e.amount ? amountText(e.amount, e.unit, e.currency, lang) : '',
      negative: e.amount < 0,
      status: t(`allowances:status.${e.statusAfter}`),
      period: dayText(e.periodStart, lang),
      scheme: e.scheme,
      batchId: e.batchId,
      reference: e.reference,
      transactionId: e.operatorTransactionId,
      why: say(res, e.why),
      note: e.note,
    }));
  }

  router.get('/allowances/programmes/:id/learners/:learnerId', manage, async (req, res) => {
    const { id, learnerId } = parseParams(learnerParam, req.params);
    const { programme, learner } = await usage.learnerInProgramme(em(), requireActor(res), id, learnerId);
    const entries = await history(em(), { learner: learner.id, programme: programme.id });
    const given = totalsByUnit(entries, langOf(res));
    res.render('allowances/learner', {
      title: 'allowances:learner.title',
      programme: { id: programme.id, name: programme.name },
      learner: { id: learner.id, displayName: learner.displayName, username: learner.username },
      given,
      entries: entriesModel(res, entries),
    });
  });

  router.get('/allowances/programmes/:id/usage', manage, async (req, res) => {
    const actor = requireActor(res);
    const { id } = parseParams(idParam, req.params);
    const { month: asked } = usageQuery.parse(req.query);
    const lang = langOf(res);
    const month = monthOf(asked ? `${asked}-01` : todayIn(actor.timeZone));
    const { programme, cohorts } = await usage.programmeUsage(em(), actor, id, month);
    const airtime = (a: Record<string, number>) =>
      Object.entries(a)
        .map(([c, v]) => amountText(v, 'airtime', c, lang))
        .join(', ');
    const mb = (n: number) => amountText(n, 'megabytes', null, lang);
    res.render('allowances/usage', {
      title: 'allowances:usage.title',
      programme: { id: programme.id, name: programme.name },
      month: monthText(month.start, lang),
      previous: addMonths(month.start, -1).slice(0, 7),
      next: addMonths(month.start, 1).slice(0, 7),
      cohorts: cohorts.map((c) => ({
        name: c.name,
        used: formatBytes(c.bytes, lang),
        megabytes: mb(c.megabytes),
        airtime: airtime(c.airtime),
        learners: c.learners.map((l) => ({ id: l.learnerId, displayName: l.displayName, used: formatBytes(l.bytes, lang), megabytes: mb(l.megabytes), airtime: airtime(l.airtime) })),
      })),
    });
  });

  router.get('/my/allowance', own, async (_req, res) => {
    const actor = requireActor(res);
    const lang = langOf(res);
    const t = tOf(res);
    const mine = await usage.myAllowances(em(), actor);
    res.render('allowances/mine', {
      title: 'allowances:mine.title',
      usedThisMonth: formatBytes(mine.months[0]!.bytes, lang),
      issues: mine.issues.map((i) => ({
        scheme: i.scheme,
        period: dayText(i.periodStart, lang),
        amount: amountText(i.amount, i.unit, i.currency, lang),
        status: i.status,
        statusLabel: t(`allowances:mine.status.${i.status}`),
        issuedAt: i.issuedAt,
        changedAt: i.changedAt,
      })),
      months: mine.months.map((m) => ({ label: monthText(m.month.start, lang), used: formatBytes(m.bytes, lang) })),
    });
  });

  return router;
}

/** What a learner was given, per unit: the sum of the ledger's signed amounts. */
function totalsByUnit(entries: HistoryEntry[], lang: string): string[] {
  const sums = new Map<string, { unit: AllowanceUnit; currency: string | null; amount: number }>();
  for (const e of entries) {
    const key = `${e.unit}|${e.currency ?? ''}`;
    const s = sums.get(key) ?? { unit: e.unit, currency: e.currency, amount: 0 };
    s.amount += e.amount;
    sums.set(key, s);
  }
  return [...sums.values()].map((s) => amountText(s.amount, s.unit, s.currency, lang));
}
