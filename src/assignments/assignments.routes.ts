import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import express, { type Request, type Response } from 'express';
import { courseUrl } from '../courses/index.ts';
import { can, requireActor, requireCapability, type Actor } from '../platform/actor.ts';
import { sendStoredFile } from '../platform/downloads.ts';
import { formHandler, parseForm, parseParams } from '../platform/forms.ts';
import type { Storage } from '../platform/storage.ts';
import { acceptAttribute, checkUploads } from '../platform/upload-checks.ts';
import { receiveFiles } from '../platform/uploads.ts';
import type { Assignment, Grade, Rubric, SubmissionFile } from './assignment.entity.ts';
import { assignmentCapabilities } from './assignments.policy.ts';
import {
  assignmentSchema,
  assignmentFileParam,
  commentSchema,
  extensionParam,
  extensionSchema,
  fileParam,
  gradeSchema,
  gradebookQuery,
  idParam,
  queueQuery,
  workSchema,
} from './assignments.schemas.ts';
import * as assignments from './assignments.service.ts';
import { gradebook, learnerGrades, writeGradebookCsv, writeLearnerGradesCsv } from './gradebook.service.ts';
import * as grading from './grading.service.ts';
import { markFeedbackSeen, unreadFeedback } from './notices.service.ts';
import { formatRubric } from './rubric.ts';
import * as work from './submissions.service.ts';
import { utcToZonedInput } from './zoned-time.ts';

export interface AssignmentsDeps {
  orm: MikroORM;
  storage: Storage;
  /**
   * The "ask a teacher" box a learner sees on an assignment (the on-call slice's askFormFor, given
   * by app.ts): the view-model of the partial oncall/ask, or null for anyone who cannot ask.
   */
  askBox: (em: EntityManager, actor: Actor, kind: 'assignment', id: number) => Promise<object | null>;
}

type T = (key: string, vars?: Record<string, unknown>) => string;
const tOf = (res: Response) => res.locals.t as T;
const languageOf = (res: Response) => (res.locals.language as string | undefined) ?? 'en';

/** "2 days", "5 hours", "12 minutes" in the reader's language: how late something was. */
export function durationText(seconds: number, language: string): string {
  const [unit, size] = seconds >= 86400 ? (['day', 86400] as const) : seconds >= 3600 ? (['hour', 3600] as const) : (['minute', 60] as const);
  const value = Math.max(1, Math.floor(seconds / size));
  return new Intl.NumberFormat(language, { style: 'unit', unit, unitDisplay: 'long' }).format(value);
}

function fileView(f: SubmissionFile) {
  const url = `/assignments/files/${f.id}`;
  return {
    id: f.id,
    name: f.name,
    kind: f.kind,
    isImage: f.kind === 'image',
    bytes: f.bytes,
    originalBytes: f.originalBytes,
    shrunk: f.originalBytes > f.bytes,
    width: f.width,
    height: f.height,
    url,
    inlineUrl: `${url}?inline=1`,
  };
}

function rubricView(rubric: Rubric | null | undefined, chosen: Record<string, string> | null | undefined) {
  if (!rubric) return null;
  return rubric.criteria.map((c) => {
    const max = Math.max(...c.levels.map((l) => l.points));
    const picked = c.levels.find((l) => l.id === chosen?.[c.id]);
    return {
      id: c.id,
      title: c.title,
      max,
      chosen: picked ? { title: picked.title, points: picked.points } : null,
      levels: c.levels.map((l) => ({ id: l.id, title: l.title, points: l.points, checked: l.id === chosen?.[c.id] })),
    };
  });
}

function formsText(a: Assignment, t: T) {
  return a.forms.map((f) => t(`assignments:forms.${f}`)).join(', ');
}

export function assignmentsRoutes({ orm, storage, askBox }: AssignmentsDeps) {
  const router = express.Router();
  const em = () => orm.em;
  const set = requireCapability(assignmentCapabilities, 'assignments:set');
  const grade = requireCapability(assignmentCapabilities, 'assignments:grade');
  const book = requireCapability(assignmentCapabilities, 'assignments:gradebook');
  const submit = requireCapability(assignmentCapabilities, 'assignments:submit');
  const signedIn = (_req: Request, res: Response, next: () => void) => {
    requireActor(res);
    next();
  };

  // ---- lists ----
  router.get('/assignments', signedIn, async (req, res) => {
    const actor = requireActor(res);
    if (actor.role === 'learner') return res.render('assignments/mine', await learnerListModel(actor, res));
    res.render('assignments/staff', await staffListModel(actor, queueQuery.parse(req.query)));
  });

  async function learnerListModel(actor: Actor, res: Response) {
    const now = new Date();
    const overview = await work.learnerOverview(em(), actor, now);
    const fresh = new Set(await unreadFeedback(em(), actor.id));
    const t = tOf(res);
    const items = overview.map((o) => {
      const s = o.submission;
      const handedIn = !!s && s.submittedVersion > 0 && s.status !== 'returned';
      const graded = handedIn && !!o.grade && o.grade.versionNumber === s!.submittedVersion;
      return {
        id: o.assignment.id,
        title: o.assignment.title,
        dueAt: o.deadlines.dueAt,
        extended: !!o.extension,
        overdue: !handedIn && o.deadlines.dueAt < now,
        closed: o.window === 'closed',
        returned: s?.status === 'returned',
        hasDraft: !!s && s.submittedVersion === 0 && s.revision > 0,
        submittedAt: s?.lastSubmittedAt ?? null,
        handedIn,
        graded,
        score: o.grade?.score ?? null,
        maxPoints: o.assignment.maxPoints,
        newFeedback: fresh.has(o.assignment.id),
        forms: formsText(o.assignment, t),
      };
    });
    return {
      title: 'assignments:mine.title',
      toDo: items.filter((i) => !i.handedIn),
      submitted: items.filter((i) => i.handedIn && !i.graded),
      graded: items.filter((i) => i.graded),
    };
  }

  async function staffListModel(actor: Actor, pages: { page: number; releasePage: number }) {
    const size = grading.QUEUE_PAGE_SIZE;
    const queue = await grading.gradingQueuePages(em(), actor, { toGrade: (pages.page - 1) * size, toRelease: (pages.releasePage - 1) * size });
    const list = await assignments.assignmentsOfTeacher(em(), actor);
    const cohorts = actor.role === 'coordinator' ? [] : await assignments.cohortChoices(em(), actor);
    const item = (q: grading.QueueItem) => ({ ...q, late: q.lateSeconds > 0 });
    // Each part pages on its own; a link keeps the page the other part is on.
    const link = (page: number, releasePage: number) => {
      const query = new URLSearchParams();
      if (page > 1) query.set('page', String(page));
      if (releasePage > 1) query.set('releasePage', String(releasePage));
      return query.size ? `/assignments?${query}` : '/assignments';
    };
    const part = (p: grading.QueuePage, to: (page: number) => string) => {
      const page = Math.floor(p.offset / size) + 1;
      return {
        items: p.items.map(item),
        total: p.total,
        paged: p.total > size,
        from: p.offset + 1,
        to: p.offset + p.items.length,
        next: p.offset + p.items.length < p.total ? to(page + 1) : null,
        first: page > 1 ? to(1) : null,
      };
    };
    const gradePage = Math.floor(queue.toGrade.offset / size) + 1;
    const releasePage = Math.floor(queue.toRelease.offset / size) + 1;
    return {
      title: 'assignments:staff.title',
      canSet: can(assignmentCapabilities, actor, 'assignments:set'),
      toGrade: part(queue.toGrade, (n) => link(n, releasePage)),
      toRelease: part(queue.toRelease, (n) => link(gradePage, n)),
      assignments: list.map(({ assignment: a, counts }) => ({ id: a.id, title: a.title, dueAt: a.dueAt, ...counts })),
      cohorts,
    };
  }

  // ---- comment bank ----
  router.post('/assignments/comments', grade, async (req, res) => {
    const { text } = parseForm(commentSchema, req.body);
    await grading.addComment(em(), requireActor(res), text);
    req.session.notice = { key: 'assignments:notice.commentAdded' };
    res.redirect(303, backTo(req, '/assignments'));
  });
  router.post('/assignments/comments/:id/delete', grade, async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    await grading.removeComment(em(), requireActor(res), id);
    res.redirect(303, backTo(req, '/assignments'));
  });

  // ---- setting work ----
  async function formModel(actor: Actor, assignmentId?: number) {
    const cohorts = await assignments.cohortChoices(em(), actor);
    return {
      cohorts,
      units: await assignments.unitChoices(em(), cohorts.map((c) => c.id)),
      formChoices: ['text', 'photo', 'pdf', 'audio'],
      assignmentId,
      timeZone: actor.timeZone,
    };
  }

  /** Checkbox lists and selects need to know which of their options the values hold. */
  function withChoices(model: Awaited<ReturnType<typeof formModel>>, values: Record<string, unknown>) {
    const asList = (v: unknown) => (Array.isArray(v) ? v.map(String) : v === undefined || v === '' ? [] : [String(v)]);
    const cohortIds = asList(values.cohortIds);
    const forms = asList(values.forms);
    return {
      ...model,
      cohorts: model.cohorts.map((c) => ({ ...c, checked: cohortIds.includes(String(c.id)) })),
      formChoices: model.formChoices.map((f) => ({ value: f, checked: forms.includes(f) })),
      values,
    };
  }

  const newPage = {
    view: 'assignments/form',
    model: async (req: Request, res: Response) => {
      const model = await formModel(requireActor(res));
      return { ...withChoices(model, req.method === 'POST' ? (req.body as Record<string, unknown>) : {}), title: 'assignments:form.newTitle' };
    },
  };
  router.get('/assignments/new', set, async (_req, res) => {
    const actor = requireActor(res);
    const now = new Date();
    const inAWeek = new Date(now.getTime() + 7 * 86400_000);
    const values = {
      opensAt: utcToZonedInput(now, actor.timeZone),
      dueAt: `${utcToZonedInput(inAWeek, actor.timeZone).slice(0, 10)}T23:59`,
      forms: ['text', 'photo'],
      maxFiles: 3,
      maxFileMb: 10,
      grading: 'points',
      maxPoints: 10,
    };
    res.render(newPage.view, { ...withChoices(await formModel(actor), values), title: 'assignments:form.newTitle' });
  });
  router.post(
    '/assignments',
    set,
    formHandler(newPage, async (req, res) => {
      const created = await assignments.createAssignment(em(), requireActor(res), parseForm(assignmentSchema, req.body));
      req.session.notice = { key: 'assignments:notice.created' };
      res.redirect(303, `/assignments/${created.id}`);
    }),
  );

  const editPage = {
    view: 'assignments/form',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const { id } = parseParams(idParam, req.params);
      const a = await assignments.managedAssignment(em(), actor, id);
      const values = req.method === 'POST' ? (req.body as Record<string, unknown>) : assignments.formValues(a, actor.timeZone, a.rubric ? formatRubric(a.rubric) : '');
      return { ...withChoices(await formModel(actor, a.id), values), title: 'assignments:form.editTitle' };
    },
  };
  router.get('/assignments/:id/edit', set, async (req, res) => res.render(editPage.view, await editPage.model(req, res)));
  router.post(
    '/assignments/:id',
    set,
    formHandler(editPage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      await assignments.updateAssignment(em(), requireActor(res), id, parseForm(assignmentSchema, req.body));
      req.session.notice = { key: 'assignments:notice.updated' };
      res.redirect(303, `/assignments/${id}`);
    }),
  );

  // ---- learner's grades export ----
  router.get('/assignments/grades.csv', submit, async (_req, res) => {
    const rows = await learnerGrades(em(), requireActor(res));
    const t = tOf(res);
    res.set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="my-grades.csv"', 'X-Content-Type-Options': 'nosniff' });
    await writeLearnerGradesCsv(rows, { assignment: t('assignments:csv.assignment'), handedIn: t('assignments:csv.handedIn'), score: t('assignments:csv.score'), feedback: t('assignments:csv.feedback') }, res);
  });

  // ---- files ----
  router.get('/assignments/files/:fileId', signedIn, async (req, res) => {
    const { fileId } = parseParams(fileParam, req.params);
    const file = await work.fileForDownload(em(), requireActor(res), fileId);
    await sendStoredFile(res, storage, { storageId: file.storageId, name: file.name, mime: file.mime }, { inline: req.query.inline === '1' && file.kind === 'image' });
  });

  // ---- one assignment ----
  const learnerPage = {
    view: 'assignments/learner',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const { id } = parseParams(idParam, req.params);
      const now = new Date();
      const v = await work.learnerView(em(), actor, id, now);
      const a = v.assignment;
      const rules = work.uploadRulesOf(a);
      const language = languageOf(res);
      const posted = req.method === 'POST' ? (req.body as Record<string, unknown> | undefined) : undefined;
      const latest = v.versions[0]?.version;
      return {
        title: 'assignments:learner.pageTitle',
        a: {
          id: a.id,
          title: a.title,
          instructionsHtml: a.instructionsHtml,
          opensAt: a.opensAt,
          dueAt: a.dueAt,
          cutoffAt: v.deadlines.cutoffAt,
          extendedTo: v.extension ?? null,
          teacher: a.createdBy.getEntity().displayName,
          unit: a.unit ? { title: a.unit.getEntity().title, course: a.unit.getEntity().course.getEntity().title, url: courseUrl(a.unit.getEntity().course.id) } : null,
          maxPoints: a.maxPoints,
          rubric: rubricView(a.rubric, null),
          resubmissionAllowed: a.resubmissionAllowed,
          forms: formsText(a, tOf(res)),
        },
        dueAt: v.deadlines.dueAt,
        open: v.window === 'open',
        closed: v.window === 'closed',
        done: v.window === 'done',
        returned: v.submission?.status === 'returned',
        willBeLate: v.window === 'open' && v.deadlines.dueAt < now,
        lateNow: v.deadlines.dueAt < now ? durationText((now.getTime() - v.deadlines.dueAt.getTime()) / 1000, language) : null,
        acceptsText: a.forms.includes('text'),
        acceptsFiles: rules.maxFiles > 0,
        photo: rules.kinds.includes('image'),
        audio: rules.kinds.includes('audio'),
        accept: acceptAttribute(rules.kinds),
        maxFiles: rules.maxFiles,
        maxFileMb: a.maxFileMb,
        roomForFiles: Math.max(0, rules.maxFiles - v.draftFiles.length),
        draft: {
          text: posted && typeof posted.text === 'string' ? posted.text : (v.submission?.draftText ?? ''),
          files: v.draftFiles.map(fileView),
          revision: v.submission?.revision ?? 0,
        },
        versions: v.versions.map(({ version, files }) => ({
          number: version.number,
          submittedAt: version.submittedAt,
          late: version.lateSeconds > 0 ? durationText(version.lateSeconds, language) : null,
          text: version.text,
          files: files.map(fileView),
          latest: version.id === latest?.id,
        })),
        grade: v.grade ? gradeView(v.grade, a) : null,
        ask: await askBox(em(), actor, 'assignment', a.id),
      };
    },
  };

  function gradeView(g: Grade, a: Assignment) {
    return { score: g.score, maxPoints: a.maxPoints, version: g.versionNumber, feedback: g.feedback, rubric: rubricView(a.rubric, g.rubricLevels), releasedAt: g.releasedAt };
  }

  const staffPage = async (req: Request, res: Response) => {
    const actor = requireActor(res);
    const { id } = parseParams(idParam, req.params);
    const a = await assignments.visibleAssignment(em(), actor, id);
    const states = await assignments.learnerStates(em(), actor, a);
    const language = languageOf(res);
    const counts = (await assignments.countsFor(em(), [a], () => [...new Set(states.map((s) => s.cohortId))])).get(a.id);
    return {
      title: 'assignments:staff.pageTitle',
      a: {
        id: a.id,
        title: a.title,
        instructionsHtml: a.instructionsHtml,
        opensAt: a.opensAt,
        dueAt: a.dueAt,
        cutoffAt: a.cutoffAt,
        cohorts: a.cohorts.getItems().map((c) => c.name).join(', '),
        unit: a.unit ? a.unit.getEntity().title : null,
        forms: formsText(a, tOf(res)),
        maxPoints: a.maxPoints,
        rubric: rubricView(a.rubric, null),
        resubmissionAllowed: a.resubmissionAllowed,
        maxFiles: a.maxFiles,
        maxFileMb: a.maxFileMb,
      },
      counts,
      canEdit: actor.role === 'admin' || a.createdBy.id === actor.id,
      canGrade: can(assignmentCapabilities, actor, 'assignments:grade'),
      unreleased: states.some((s) => s.graded && !s.released),
      learners: states.map((s) => ({ ...s, late: s.lateSeconds > 0 ? durationText(s.lateSeconds, language) : null })),
    };
  };

  router.get('/assignments/:id', signedIn, async (req, res) => {
    const actor = requireActor(res);
    if (actor.role === 'learner') {
      const model = await learnerPage.model(req, res);
      await markFeedbackSeen(em(), actor.id, model.a.id);
      return res.render(learnerPage.view, model);
    }
    res.render('assignments/teacher', await staffPage(req, res));
  });

  router.post(
    '/assignments/:id/work',
    submit,
    formHandler(learnerPage, async (req, res) => {
      const actor = requireActor(res);
      const { id } = parseParams(idParam, req.params);
      const a = await assignments.visibleAssignment(em(), actor, id);
      const rules = work.uploadRulesOf(a);
      // Each empty file input of the form still sends a nameless empty part: room for those too.
      const received = await receiveFiles(req, res, 'files', { maxBytes: rules.maxBytes, maxFiles: rules.maxFiles + 3 });
      if (received.problem) throw received.problem;
      const input = parseForm(workSchema, req.body);
      const sent = received.files.filter((f) => f.originalname !== '' || f.size > 0);
      const files = await checkUploads(sent, rules);
      const result = await work.saveWork(em(), actor, id, { text: input.text, files, submit: input.action === 'submit', revision: input.revision }, { storage });
      if (result.outcome === 'submitted') {
        req.session.notice = result.lateSeconds > 0
          ? { key: 'assignments:notice.submittedLate', vars: { version: result.version, late: durationText(result.lateSeconds, languageOf(res)) } }
          : { key: 'assignments:notice.submitted', vars: { version: result.version } };
      } else {
        req.session.notice = { key: result.outcome === 'stale' ? 'assignments:notice.stale' : 'assignments:notice.saved' };
      }
      res.redirect(303, `/assignments/${id}`);
    }),
  );

  router.post('/assignments/:id/files/:fileId/remove', submit, async (req, res) => {
    const { id, fileId } = parseParams(assignmentFileParam, req.params);
    await work.removeDraftFile(em(), requireActor(res), id, fileId, { storage });
    req.session.notice = { key: 'assignments:notice.fileRemoved' };
    res.redirect(303, `/assignments/${id}`);
  });

  // ---- extensions and releasing ----
  router.post(
    '/assignments/:id/extensions',
    grade,
    formHandler({ view: 'assignments/teacher', model: staffPage }, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      const input = parseForm(extensionSchema, req.body);
      await assignments.grantExtension(em(), requireActor(res), id, input.learnerId, input.dueAt);
      req.session.notice = { key: 'assignments:notice.extension' };
      res.redirect(303, `/assignments/${id}`);
    }),
  );
  router.post('/assignments/:id/extensions/:learnerId/remove', grade, async (req, res) => {
    const { id, learnerId } = parseParams(extensionParam, req.params);
    await assignments.removeExtension(em(), requireActor(res), id, learnerId);
    req.session.notice = { key: 'assignments:notice.extensionRemoved' };
    res.redirect(303, `/assignments/${id}`);
  });
  router.post('/assignments/:id/release', grade, async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    const actor = requireActor(res);
    await assignments.visibleAssignment(em(), actor, id);
    const count = await grading.releaseAll(em(), actor, id);
    req.session.notice = { key: 'assignments:notice.releasedAll', vars: { count } };
    res.redirect(303, `/assignments/${id}`);
  });

  // ---- grading one submission ----
  const gradePage = {
    view: 'assignments/grade',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const { id } = parseParams(idParam, req.params);
      const v = await grading.gradingView(em(), actor, id);
      const a = v.assignment;
      const language = languageOf(res);
      const posted = req.method === 'POST' ? (req.body as Record<string, unknown>) : undefined;
      const chosen = posted ? Object.fromEntries(Object.entries(posted).filter(([k]) => k.startsWith('level_')).map(([k, val]) => [k.slice(6), String(val)])) : v.grade?.rubricLevels;
      const latest = v.versions[0]!;
      return {
        title: 'assignments:grade.pageTitle',
        s: {
          id: v.submission.id,
          learner: v.submission.learner.getEntity().displayName,
          cohort: v.submission.cohort.getEntity().name,
          version: v.submission.submittedVersion,
          returned: v.submission.status === 'returned',
        },
        a: { id: a.id, title: a.title, maxPoints: a.maxPoints, instructionsHtml: a.instructionsHtml },
        latest: { ...versionView(latest, language) },
        older: v.versions.slice(1).map((x) => versionView(x, language)),
        rubric: rubricView(a.rubric, chosen),
        grade: v.grade
          ? { score: v.grade.score, released: !!v.grade.releasedAt, revision: v.grade.revision, by: v.grade.gradedBy.getEntity().displayName, at: v.grade.gradedAt, forVersion: v.grade.versionNumber, stale: v.grade.versionNumber < v.submission.submittedVersion }
          : null,
        values: posted ?? { score: v.grade?.score ?? '', feedback: v.grade?.feedback ?? '' },
        seenRevision: v.grade?.revision ?? 0,
        bank: v.bank.map((c) => ({ id: c.id, text: c.text, short: c.text.length > 60 ? `${c.text.slice(0, 59)}…` : c.text })),
        history: v.history.map((h) => ({
          action: h.action,
          by: h.changedBy.getEntity().displayName,
          at: h.changedAt,
          from: h.oldValue ? h.oldValue.score : null,
          to: h.newValue ? h.newValue.score : null,
        })),
      };
    },
  };

  function versionView(x: { version: { number: number; submittedAt: Date; lateSeconds: number; text: string }; files: SubmissionFile[] }, language: string) {
    return {
      number: x.version.number,
      submittedAt: x.version.submittedAt,
      late: x.version.lateSeconds > 0 ? durationText(x.version.lateSeconds, language) : null,
      text: x.version.text,
      files: x.files.map(fileView),
    };
  }

  router.get('/submissions/:id', grade, async (req, res) => res.render(gradePage.view, await gradePage.model(req, res)));
  router.post(
    '/submissions/:id/grade',
    grade,
    formHandler(gradePage, async (req, res) => {
      const { id } = parseParams(idParam, req.params);
      const input = parseForm(gradeSchema, req.body);
      const body = req.body as Record<string, unknown>;
      const levels = Object.fromEntries(Object.entries(body).filter(([k, v]) => /^level_c\d+$/.test(k) && typeof v === 'string').map(([k, v]) => [k.slice(6), v as string]));
      const result = await grading.saveGrade(em(), requireActor(res), id, { ...input, levels });
      req.session.notice = result.overwrote
        ? { key: 'assignments:notice.overwrote', vars: { name: result.overwrote } }
        : { key: result.released ? 'assignments:notice.gradedReleased' : 'assignments:notice.graded' };
      res.redirect(303, `/submissions/${id}`);
    }),
  );
  router.post('/submissions/:id/release', grade, async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    await grading.releaseGrade(em(), requireActor(res), id);
    req.session.notice = { key: 'assignments:notice.released' };
    res.redirect(303, `/submissions/${id}`);
  });
  router.post('/submissions/:id/return', grade, async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    await grading.returnForResubmission(em(), requireActor(res), id);
    req.session.notice = { key: 'assignments:notice.returned' };
    res.redirect(303, `/submissions/${id}`);
  });

  // ---- gradebook ----
  router.get('/gradebook/:id', book, async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    const q = gradebookQuery.safeParse(req.query);
    const quizzes = q.success && q.data.quizzes === '1';
    const b = await gradebook(em(), requireActor(res), id, { quizzes });
    res.render('assignments/gradebook', { title: 'assignments:gradebook.title', book: b, quizzes, hasAssignments: b.assignments.length > 0 });
  });
  router.get('/gradebook/:id/export.csv', book, async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    const q = gradebookQuery.safeParse(req.query);
    const b = await gradebook(em(), requireActor(res), id, { quizzes: q.success && q.data.quizzes === '1' });
    const t = tOf(res);
    res.set({ 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="gradebook-${b.cohort.id}.csv"`, 'X-Content-Type-Options': 'nosniff' });
    await writeGradebookCsv(
      b,
      {
        learner: t('assignments:csv.learner'),
        username: t('assignments:csv.username'),
        total: t('assignments:csv.total'),
        missing: t('assignments:csv.missing'),
        late: t('assignments:csv.late'),
        draft: t('assignments:csv.draft'),
        quiz: (title) => t('assignments:csv.quiz', { title }),
      },
      res,
    );
  });

  return router;
}

/** Back to the page a form was on, when it is a page of this site. */
function backTo(req: Request, fallback: string): string {
  const next = (req.body as { next?: unknown } | undefined)?.next;
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : fallback;
}
