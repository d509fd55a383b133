import type { MikroORM } from '@mikro-orm/postgresql';
import express, { type Request, type Response } from 'express';
import type { i18n } from 'i18next';
import { can, requireActor, requireCapability } from '../platform/actor.ts';
import { contentDisposition } from '../platform/downloads.ts';
import { AppError, NotFound } from '../platform/errors.ts';
import { formHandler, parseForm, parseParams } from '../platform/forms.ts';
import { LANGUAGES, LANGUAGE_NAMES, isLanguage } from '../platform/i18n.ts';
import type { rateLimiter } from '../platform/security.ts';
import { certificateCapabilities } from './certificates.policy.ts';
import { codeParam, courseParam, manualIssueSchema, pageQuery, revokeSchema, ruleSchema, settingsSchema, verifyQuery } from './certificates.schemas.ts';
import * as certificates from './certificates.service.ts';
import { formatCode } from './code.ts';
import { certificateFileName, directionOf, printedWords, renderCertificatePdf } from './pdf.ts';
import { qrSvg } from './qr.ts';
import * as rules from './rules.service.ts';
import { keyIdOf } from './signing.ts';
import type { Certificate } from './certificate.entity.ts';

export interface CertificatesDeps {
  orm: MikroORM;
  issuer: certificates.CertificateIssuer;
  i18n: i18n;
  /** Checks of /verify/<code> allowed per address: a code cannot be guessed by trying. */
  verifyLimiter: ReturnType<typeof rateLimiter>;
}

type T = (key: string, vars?: Record<string, unknown>) => string;
const tOf = (res: Response) => res.locals.t as T;

export const WELL_KNOWN_KEYS = '/.well-known/dars-certificates.json';

export function certificatesRoutes({ orm, issuer, i18n, verifyLimiter }: CertificatesDeps) {
  const router = express.Router();
  const em = () => orm.em;
  const hold = requireCapability(certificateCapabilities, 'certificates:hold');
  const manage = requireCapability(certificateCapabilities, 'certificates:manage');
  const holdOrManage: express.RequestHandler = (_req, res, next) => {
    const actor = requireActor(res);
    if (!can(certificateCapabilities, actor, 'certificates:hold') && !can(certificateCapabilities, actor, 'certificates:manage')) throw new NotFound();
    next();
  };
  const urls = (code: string) => {
    const shown = formatCode(code);
    return { page: `/certificates/${shown}`, pdf: `/certificates/${shown}/pdf`, json: `/certificates/${shown}/credential.json` };
  };

  // ---- the learner's certificates ----

  router.get('/certificates', hold, async (_req, res) => {
    const actor = requireActor(res);
    const { held, progress } = await certificates.learnerCertificates(em(), issuer, actor.id);
    res.render('certificates/mine', {
      title: 'certificates:mine.title',
      certificates: held.map((c) => ({ ...certificates.summary(c, issuer.publicUrl), codeShown: formatCode(c.code), urls: urls(c.code) })),
      progress: progress.map((p) => ({ courseTitle: p.courseTitle, ...p.eligibility })),
    });
  });

  // ---- coordinators: issuing by hand, the list, course rules ----

  const managePage = {
    view: 'certificates/manage',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const { page } = pageQuery.parse(req.query);
      const { certs, total } = await certificates.managedCertificates(em(), actor, page);
      const courses = (await rules.courseRules(em(), actor)).map((r) => ({ id: r.courseId, title: r.courseTitle }));
      const pages = Math.max(1, Math.ceil(total / certificates.PAGE_SIZE));
      return {
        title: 'certificates:manage.title',
        courses,
        certificates: certs.map((c) => ({
          ...certificates.summary(c, issuer.publicUrl),
          codeShown: formatCode(c.code),
          url: urls(c.code).page,
          learner: { displayName: c.learner.getEntity().displayName, username: c.learner.getEntity().username },
        })),
        page,
        pages,
        previous: page > 1 ? page - 1 : null,
        next: page < pages ? page + 1 : null,
      };
    },
  };
  router.get('/certificates/manage', manage, async (req, res) => res.render(managePage.view, await managePage.model(req, res)));
  router.post(
    '/certificates/manage',
    manage,
    formHandler(managePage, async (req, res) => {
      const input = parseForm(manualIssueSchema, req.body);
      const { certificate, created } = await certificates.issueByHand(em(), issuer, requireActor(res), input);
      req.session.notice = { key: created ? 'certificates:manage.issuedNotice' : 'certificates:manage.alreadyHeld' };
      res.redirect(303, urls(certificate.code).page);
    }),
  );

  router.get('/certificates/rules', manage, async (_req, res) => {
    res.render('certificates/rules', { title: 'certificates:rules.title', rules: await rules.courseRules(em(), requireActor(res)) });
  });
  const rulePage = {
    view: 'certificates/rule',
    model: async (req: Request, res: Response) => {
      const { courseId } = parseParams(courseParam, req.params);
      const rule = await rules.courseRule(em(), requireActor(res), courseId);
      return { title: 'certificates:rules.title', rule };
    },
  };
  router.get('/certificates/rules/:courseId', manage, async (req, res) => {
    const model = await rulePage.model(req, res);
    res.render(rulePage.view, { ...model, values: { minQuizScore: model.rule.minQuizScore ?? '', minAssignmentScore: model.rule.minAssignmentScore ?? '' } });
  });
  router.post(
    '/certificates/rules/:courseId',
    manage,
    formHandler(rulePage, async (req, res) => {
      const { courseId } = parseParams(courseParam, req.params);
      await rules.saveRule(em(), requireActor(res), courseId, parseForm(ruleSchema, req.body));
      req.session.notice = { key: 'certificates:rules.saved' };
      res.redirect(303, '/certificates/rules');
    }),
  );

  // ---- one certificate ----

  /** The certificate's own words, in its own language (which may differ from the page's). */
  const printedText = (cert: Certificate) => ({
    lang: cert.language,
    dir: directionOf(cert.language),
    ...printedWords(
      { code: cert.code, level: cert.level, studyHours: cert.studyHours, edition: cert.edition, issuedAt: cert.issuedAt, credential: cert.credential, keyId: keyIdOf(cert.credential.proof) },
      cert.language,
      i18n.getFixedT(cert.language) as unknown as T,
    ),
  });

  const certificatePage = {
    view: 'certificates/certificate',
    model: async (req: Request, res: Response) => {
      const actor = requireActor(res);
      const { code } = parseParams(codeParam, req.params);
      const cert = await certificates.certificateFor(em(), actor, code);
      const own = cert.learner.id === actor.id;
      const s = certificates.summary(cert, issuer.publicUrl);
      const renamesLeft = certificates.MAX_RENAMES - cert.renameCount;
      return {
        title: 'certificates:certificate.title',
        cert: { ...s, codeShown: formatCode(cert.code), urls: urls(cert.code), revoked: !!cert.revokedAt },
        printed: printedText(cert),
        qrSvgHtml: qrSvg(s.verifyUrl),
        own,
        renamesLeft,
        languages: LANGUAGES.map((code) => ({ code, name: LANGUAGE_NAMES[code] })),
        staff: own ? null : { learner: { displayName: cert.learner.getEntity().displayName, username: cert.learner.getEntity().username }, audit: await auditOf(cert) },
      };
    },
  };
  const auditOf = async (cert: Certificate) =>
    (await certificates.auditTrail(em(), cert)).map((e) => ({
      ...e,
      renamed: e.action === 'renamed' && e.detail ? { from: String(e.detail.from), to: String(e.detail.to) } : null,
    }));

  router.get('/certificates/:code', holdOrManage, async (req, res) => {
    const model = await certificatePage.model(req, res);
    res.render(certificatePage.view, { ...model, values: { printedName: model.cert.printedName, language: model.cert.language } });
  });
  router.post(
    '/certificates/:code/settings',
    hold,
    formHandler(certificatePage, async (req, res) => {
      const { code } = parseParams(codeParam, req.params);
      await certificates.updateSettings(em(), issuer, requireActor(res), code, parseForm(settingsSchema, req.body));
      req.session.notice = { key: 'certificates:certificate.saved' };
      res.redirect(303, urls(code).page);
    }),
  );
  router.post(
    '/certificates/:code/revoke',
    manage,
    formHandler(certificatePage, async (req, res) => {
      const { code } = parseParams(codeParam, req.params);
      await certificates.revoke(em(), requireActor(res), code, parseForm(revokeSchema, req.body).reason);
      req.session.notice = { key: 'certificates:certificate.revokedNotice' };
      res.redirect(303, urls(code).page);
    }),
  );

  const downloadable = async (req: Request, res: Response) => {
    const { code } = parseParams(codeParam, req.params);
    const cert = await certificates.certificateFor(em(), requireActor(res), code);
    if (cert.revokedAt) throw new AppError('certificate_revoked', 410, 'certificates:errors.revokedDownload');
    return cert;
  };
  const sendFile = (res: Response, type: string, name: string, body: Buffer) => {
    res.set({ 'Content-Type': type, 'Content-Disposition': contentDisposition('attachment', name), 'X-Content-Type-Options': 'nosniff' });
    res.send(body);
  };

  router.get('/certificates/:code/pdf', holdOrManage, async (req, res) => {
    const cert = await downloadable(req, res);
    const language = isLanguage(req.query.lang) ? req.query.lang : cert.language;
    const pdf = await renderCertificatePdf(
      {
        ...certificates.summary(cert, issuer.publicUrl),
        credential: cert.credential,
        keyId: keyIdOf(cert.credential.proof),
      },
      language,
      i18n.getFixedT(language) as unknown as T,
    );
    sendFile(res, 'application/pdf', certificateFileName(cert.code, 'pdf'), pdf);
  });

  router.get('/certificates/:code/credential.json', holdOrManage, async (req, res) => {
    const cert = await downloadable(req, res);
    sendFile(res, 'application/json; charset=utf-8', certificateFileName(cert.code, 'json'), Buffer.from(JSON.stringify(cert.credential, null, 2)));
  });

  // ---- anyone: checking a certificate ----

  /** Public pages: no learner data beyond what the certificate says, never in a search index. */
  const publicPage = (res: Response) => res.set({ 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex, nofollow' });

  router.get('/verify', async (req, res) => {
    publicPage(res);
    if (req.query.code === undefined) return res.render('certificates/verify', { title: 'certificates:verify.title' });
    const parsed = verifyQuery.safeParse(req.query);
    if (!parsed.success) {
      return res.status(422).render('certificates/verify', { title: 'certificates:verify.title', values: { code: String(req.query.code).slice(0, 40) }, errors: { code: tOf(res)('certificates:errors.codeFormat') } });
    }
    res.redirect(303, `/verify/${formatCode(parsed.data.code)}`);
  });

  router.get('/verify/:code', async (req, res) => {
    publicPage(res);
    const wait = await verifyLimiter.consume(req.ip ?? 'unknown').then(
      () => null,
      (r: unknown) => {
        // The limiter rejects with its verdict when the address is over the limit, and with an
        // Error when it could not ask the database: that is a failure, not a reason to wait.
        if (r instanceof Error) throw r;
        return Math.ceil(((r as { msBeforeNext?: number }).msBeforeNext ?? 60_000) / 1000);
      },
    );
    if (wait !== null) {
      res.set('Retry-After', String(wait));
      return res.status(429).render('certificates/verify', { title: 'certificates:verify.title', formError: tOf(res)('certificates:verify.tooMany', { count: Math.ceil(wait / 60) }) });
    }
    const parsed = codeParam.safeParse(req.params);
    const cert = parsed.success ? await certificates.certificateByCode(em(), parsed.data.code) : null;
    const model = { title: 'certificates:verify.title', values: { code: String(req.params.code).slice(0, 40) }, keysUrl: WELL_KNOWN_KEYS };
    if (!cert) return res.status(404).render('certificates/verify', { ...model, result: { unknown: true } });
    // What the certificate certifies, and nothing else about its holder.
    res.render('certificates/verify', {
      ...model,
      result: {
        valid: !cert.revokedAt,
        revokedAt: cert.revokedAt ?? null,
        printedName: cert.printedName,
        courseTitle: cert.courseTitle,
        level: cert.level,
        studyHours: cert.studyHours,
        programmeName: cert.programmeName,
        edition: cert.edition > 1 ? cert.edition : null,
        issuedAt: cert.issuedAt,
        codeShown: formatCode(cert.code),
      },
    });
  });

  router.get(WELL_KNOWN_KEYS, async (_req, res) => {
    const keys = await certificates.publishedKeys(em(), issuer);
    res.set({ 'Cache-Control': 'public, max-age=3600', 'Access-Control-Allow-Origin': '*' });
    res.json({ issuer: issuer.publicUrl, cryptosuite: 'eddsa-jcs-2022', keys });
  });

  return router;
}
