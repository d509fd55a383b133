import type { MikroORM } from '@mikro-orm/postgresql';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { requireActor, requireCapability, can } from '../platform/actor.ts';
import { InvalidInput } from '../platform/errors.ts';
import { formHandler, parseForm, parseParams } from '../platform/forms.ts';
import { memoryUpload } from '../platform/uploads.ts';
import { CSV_COLUMNS, importLearners } from './learner-import.ts';
import { programmeCapabilities } from './programmes.policy.ts';
import { cohortSchema, idParam, joinSchema, programmeSchema, siteSchema, usernameSchema } from './programmes.schemas.ts';
import * as programmes from './programmes.service.ts';

export interface ProgrammesDeps {
  orm: MikroORM;
  csvLimitBytes: number;
}

export function programmesRoutes({ orm, csvLimitBytes }: ProgrammesDeps) {
  const router = express.Router();
  const manage = requireCapability(programmeCapabilities, 'programmes:manage');
  const create = requireCapability(programmeCapabilities, 'programmes:create');
  const viewCohorts = requireCapability(programmeCapabilities, 'cohorts:view');
  const join = requireCapability(programmeCapabilities, 'cohorts:join');
  const em = () => orm.em;

  const listPage = {
    view: 'programmes/list',
    model: async (_req: Request, res: Response) => {
      const actor = requireActor(res);
      return { title: 'programmes:list.title', programmes: await programmes.listProgrammes(em(), actor), canCreate: can(programmeCapabilities, actor, 'programmes:create') };
    },
  };
  router.get('/programmes', manage, async (req, res) => res.render(listPage.view, await listPage.model(req, res)));
  router.post(
    '/programmes',
    create,
    formHandler(listPage, async (req, res) => {
      const programme = await programmes.createProgramme(em(), requireActor(res), parseForm(programmeSchema, req.body));
      res.redirect(303, `/programmes/${programme.id}`);
    }),
  );

  const programmePage = {
    view: 'programmes/programme',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const { id } = parseParams(idParam, req.params);
      const p = await programmes.getProgramme(em(), actor, id);
      return {
        title: 'programmes:programme.title',
        programme: { id: p.id, name: p.name, description: p.description },
        coordinators: p.coordinators.getItems().map((u) => ({ displayName: u.displayName, username: u.username })),
        sites: p.sites.getItems().map((s) => ({ id: s.id, name: s.name })),
        cohorts: p.cohorts.getItems().map((c) => ({ id: c.id, name: c.name, site: c.site?.getEntity().name, code: c.enrolmentCode })),
        canAddCoordinator: can(programmeCapabilities, actor, 'programmes:create'),
      };
    },
  };
  router.get('/programmes/:id', manage, async (req, res) => res.render(programmePage.view, await programmePage.model(req, res)));
  router.post(
    '/programmes/:id/sites',
    manage,
    formHandler(programmePage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      await programmes.addSite(em(), requireActor(res), id, parseForm(siteSchema, req.body).name);
      res.redirect(303, `/programmes/${id}`);
    }),
  );
  router.post(
    '/programmes/:id/cohorts',
    manage,
    formHandler(programmePage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      const cohort = await programmes.addCohort(em(), requireActor(res), id, parseForm(cohortSchema, req.body));
      res.redirect(303, `/cohorts/${cohort.id}`);
    }),
  );
  router.post(
    '/programmes/:id/coordinators',
    create,
    formHandler(programmePage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      await programmes.getProgramme(em(), requireActor(res), id);
      await programmes.addCoordinator(em(), id, parseForm(usernameSchema, req.body).username);
      res.redirect(303, `/programmes/${id}`);
    }),
  );

  const cohortPage = {
    view: 'programmes/cohort',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const { id } = parseParams(idParam, req.params);
      const cohort = await programmes.getCohort(em(), actor, id);
      const enrolments = await programmes.cohortLearners(em(), cohort);
      return {
        title: 'programmes:cohort.title',
        cohort: { id: cohort.id, name: cohort.name, code: cohort.enrolmentCode, programme: cohort.programme.getEntity().name, programmeId: cohort.programme.id },
        teachers: cohort.teachers.getItems().map((u) => ({ id: u.id, displayName: u.displayName, username: u.username })),
        enrolments: enrolments.map((e) => ({ id: e.id, status: e.status, active: e.status === 'active', learner: { id: e.learner.id, displayName: e.learner.getEntity().displayName, username: e.learner.getEntity().username } })),
        canManage: can(programmeCapabilities, actor, 'programmes:manage'),
      };
    },
  };
  router.get('/cohorts/:id', viewCohorts, async (req, res) => res.render(cohortPage.view, await cohortPage.model(req, res)));
  router.post(
    '/cohorts/:id/teachers',
    manage,
    formHandler(cohortPage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      await programmes.assignTeacher(em(), requireActor(res), id, parseForm(usernameSchema, req.body).username);
      res.redirect(303, `/cohorts/${id}`);
    }),
  );
  router.post('/cohorts/:id/teachers/:teacherId/remove', manage, async (req, res) => {
    const { id, teacherId } = parseParams(z.object({ id: z.coerce.number().int().positive(), teacherId: z.coerce.number().int().positive() }), req.params);
    await programmes.removeTeacher(em(), requireActor(res), id, teacherId);
    res.redirect(303, `/cohorts/${id}`);
  });
  router.post(
    '/cohorts/:id/enrolments',
    manage,
    formHandler(cohortPage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      await programmes.enrolByUsername(em(), requireActor(res), id, parseForm(usernameSchema, req.body).username);
      res.redirect(303, `/cohorts/${id}`);
    }),
  );
  router.post('/cohorts/:id/enrolments/:enrolmentId/withdraw', manage, async (req, res) => {
    const { id, enrolmentId } = parseParams(z.object({ id: z.coerce.number().int().positive(), enrolmentId: z.coerce.number().int().positive() }), req.params);
    await programmes.withdraw(em(), requireActor(res), id, enrolmentId);
    res.redirect(303, `/cohorts/${id}`);
  });

  const importPage = {
    view: 'programmes/import',
    model: async (req: Request, res: Response) => {
      const { id } = parseParams(idParam, req.params);
      const cohort = await programmes.getManagedCohort(em(), requireActor(res), id);
      return { title: 'programmes:import.title', cohort: { id: cohort.id, name: cohort.name }, columns: CSV_COLUMNS };
    },
  };
  router.get('/cohorts/:id/import', manage, async (req, res) => res.render(importPage.view, await importPage.model(req, res)));
  router.post(
    '/cohorts/:id/import',
    manage,
    memoryUpload('file', { maxBytes: csvLimitBytes }),
    formHandler(importPage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      const cohort = await programmes.getManagedCohort(em(), requireActor(res), id);
      if (!req.file || req.file.size === 0) throw new InvalidInput({ file: { key: 'programmes:import.noFile' } });
      const text = new TextDecoder('utf-8', { fatal: false }).decode(req.file.buffer);
      const report = await importLearners(em(), requireActor(res), cohort, text);
      const t = res.locals.t as (k: string, v?: object) => string;
      res.status(report.ok ? 200 : 422).render('programmes/import-report', {
        ...(await importPage.model(req, res)),
        report: {
          ok: report.ok,
          created: report.created,
          enrolledExisting: report.enrolledExisting,
          problems: report.problems.map((p) => ({ row: p.row, field: p.field, message: t(p.key, p.vars) })),
        },
      });
    }),
  );

  const joinPage = { view: 'programmes/join', model: () => ({ title: 'programmes:join.title' }) };
  router.get('/join', join, (_req, res) => res.render(joinPage.view, joinPage.model()));
  router.post(
    '/join',
    join,
    formHandler(joinPage, async (req, res) => {
      const cohort = await programmes.joinWithCode(em(), requireActor(res), parseForm(joinSchema, req.body).code);
      req.session.notice = { key: 'programmes:join.joined', vars: { cohort: cohort.name } };
      res.redirect(303, '/');
    }),
  );

  return router;
}
