import type { MikroORM } from '@mikro-orm/postgresql';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { actorOf, requireActor, requireCapability } from '../platform/actor.ts';
import { formHandler, parseForm, parseParams } from '../platform/forms.ts';
import { LANGUAGE_COOKIE, LANGUAGES, LANGUAGE_NAMES } from '../platform/i18n.ts';
import { endSessionsOf, type rateLimiter } from '../platform/security.ts';
import { accountCapabilities, assignableRoles } from './accounts.policy.ts';
import { COUNTRY_CODES, changePasswordSchema, languageSchema, loginSchema, newUserSchema, profileSchema } from './accounts.schemas.ts';
import * as accounts from './accounts.service.ts';
import { LEGAL_STATUSES, ROLES, SEXES, type User } from './user.entity.ts';
import { COMMON_TIME_ZONES } from './time-zones.ts';

export interface AccountsDeps {
  orm: MikroORM;
  sessionPool: pg.Pool;
  loginPolicy: accounts.LoginPolicy;
  loginLimiter: ReturnType<typeof rateLimiter>;
  directory: accounts.UserDirectory;
  tls: boolean;
}

const idParam = z.object({ id: z.coerce.number().int().positive() });

/** Only paths inside this site may be returned to after login or a language change. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/';
}

/**
 * Loads who is signed in onto res.locals; a session whose user was deactivated is ended. What
 * other slices show on every signed-in page (`withUser`) is read in the same statement.
 */
export function loadCurrentUser(orm: MikroORM, withUser: readonly accounts.ReadWithUser[] = []): RequestHandler {
  const findActiveActor = accounts.activeActorReader(withUser);
  return async (req, res, next) => {
    const id = req.session?.userId;
    if (id) {
      const found = await findActiveActor(orm.em, id);
      if (found) {
        res.locals.currentUser = found.actor;
        withUser.forEach((w, i) => w.apply(res.locals, found.extras[i]));
      } else await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    }
    next();
  };
}

/** After a password reset, nothing but choosing a new password (or leaving) is possible. */
export const requireFreshPassword: RequestHandler = (req, res, next) => {
  const actor = actorOf(res);
  const allowed = ['/account/password', '/logout', '/language'];
  if (actor?.mustChangePassword && !allowed.includes(req.path) && !req.path.startsWith('/assets/')) {
    return res.redirect(303, '/account/password');
  }
  next();
};

export function accountsRoutes(deps: AccountsDeps) {
  const { orm } = deps;
  const router = express.Router();

  const loginPage = { view: 'accounts/login', model: () => ({ title: 'accounts:login.title' }) };
  router.get('/login', (req, res) => {
    if (actorOf(res)) return res.redirect(303, '/');
    res.render(loginPage.view, loginPage.model());
  });

  router.post(
    '/login',
    formHandler(loginPage, async (req, res) => {
      const input = parseForm(loginSchema, req.body);
      const t = res.locals.t as (k: string, v?: object) => string;
      const limited = await deps.loginLimiter.consume(req.ip ?? 'unknown').then(
        () => null,
        (r: { msBeforeNext?: number }) => Math.ceil((r.msBeforeNext ?? 60000) / 60000),
      );
      if (limited !== null) {
        return res.status(429).render(loginPage.view, { ...loginPage.model(), values: { login: input.login }, formError: t('accounts:login.tooMany', { minutes: limited }) });
      }
      const result = await accounts.authenticate(orm.em, input.login, input.password, deps.loginPolicy);
      if (!result.ok) {
        const formError = result.reason === 'locked' ? t('accounts:login.locked', { minutes: result.minutes }) : t('accounts:login.invalid');
        return res.status(401).render(loginPage.view, { ...loginPage.model(), values: { login: input.login }, formError });
      }
      const returnTo = safeNext(req.session.returnTo);
      // A new session id at login: a planted id (session fixation) is worth nothing.
      await new Promise<void>((resolve, reject) => req.session.regenerate((e) => (e ? reject(e) : resolve())));
      req.session.userId = result.user.id;
      await new Promise<void>((resolve, reject) => req.session.save((e) => (e ? reject(e) : resolve())));
      if (result.user.language) res.cookie(LANGUAGE_COOKIE, result.user.language, languageCookie(deps.tls));
      res.redirect(303, result.user.mustChangePassword ? '/account/password' : returnTo);
    }),
  );

  router.post('/logout', async (req, res) => {
    const actor = actorOf(res);
    const everywhere = (req.body as { everywhere?: string } | undefined)?.everywhere === 'yes';
    if (actor && everywhere) await endSessionsOf(deps.sessionPool, actor.id);
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    res.clearCookie('dars.sid');
    // Lessons a phone kept for offline reading (and answers waiting to be sent) belong to this
    // session: the browser drops them, and the worker that kept them, on the way out.
    res.set('Clear-Site-Data', '"storage"');
    res.redirect(303, '/login');
  });

  router.post('/language', (req, res) => {
    const { lng, next } = parseLanguage(req);
    res.cookie(LANGUAGE_COOKIE, lng, languageCookie(deps.tls));
    const actor = actorOf(res);
    const done = () => res.redirect(303, safeNext(next));
    if (!actor) return done();
    return accounts.setLanguage(orm.em, actor, lng).then(done);
  });

  const passwordPage = {
    view: 'accounts/password',
    model: (_req: Request, res: Response) => ({ title: 'accounts:password.title', forced: requireActor(res).mustChangePassword }),
  };
  router.get('/account/password', (req, res) => res.render(passwordPage.view, passwordPage.model(req, res)));
  router.post(
    '/account/password',
    formHandler(passwordPage, async (req, res) => {
      const actor = requireActor(res);
      const input = parseForm(changePasswordSchema, req.body);
      await accounts.changePassword(orm.em, actor, input.currentPassword, input.newPassword);
      // Other devices signed in with the old password are signed out; this one stays.
      await endSessionsOf(deps.sessionPool, actor.id);
      await new Promise<void>((resolve, reject) => req.session.regenerate((e) => (e ? reject(e) : resolve())));
      req.session.userId = actor.id;
      req.session.notice = { key: 'accounts:password.changed' };
      res.redirect(303, '/');
    }),
  );

  const profilePage = {
    view: 'accounts/profile',
    model: (_req: Request, res: Response) => profileChoices(res),
  };
  router.get('/profile', async (req, res) => {
    const user = await accounts.getUser(orm.em, requireActor(res).id);
    res.render(profilePage.view, { ...profileChoices(res), values: profileValues(user) });
  });
  router.post(
    '/profile',
    formHandler(profilePage, async (req, res) => {
      const actor = requireActor(res);
      const input = parseForm(profileSchema, req.body);
      await accounts.updateProfile(orm.em, actor, input);
      res.cookie(LANGUAGE_COOKIE, input.language, languageCookie(deps.tls));
      req.session.notice = { key: 'accounts:profile.saved' };
      res.redirect(303, '/profile');
    }),
  );

  // ---- managing other people's accounts (coordinators, admins) ----
  const manage = requireCapability(accountCapabilities, 'accounts:manageUsers');

  router.get('/users', manage, async (req, res) => {
    const actor = requireActor(res);
    const q = typeof req.query.q === 'string' ? req.query.q.slice(0, 64) : undefined;
    const page = Math.max(1, Number(req.query.page) || 1);
    const { users, total, pages } = await accounts.listUsers(orm.em, actor, deps.directory, q, page);
    res.render('accounts/users', {
      title: 'accounts:users.title',
      q,
      total,
      page,
      pages,
      prev: page > 1 ? page - 1 : null,
      next: page < pages ? page + 1 : null,
      users: users.map((u) => ({ id: u.id, username: u.username, displayName: u.displayName, role: u.role, active: u.active, phone: u.phone })),
    });
  });

  const newUserPage = {
    view: 'accounts/user-new',
    model: (_req: Request, res: Response) => ({ title: 'accounts:users.newTitle', roles: assignableRoles(requireActor(res)), languages: languageChoices() }),
  };
  router.get('/users/new', manage, (req, res) => res.render(newUserPage.view, { ...newUserPage.model(req, res), values: { role: 'learner' } }));
  router.post(
    '/users',
    manage,
    formHandler(newUserPage, async (req, res) => {
      const input = parseForm(newUserSchema, req.body);
      const { user, password } = await accounts.createUser(orm.em, requireActor(res), input);
      res.status(201).render('accounts/one-time-password', { title: 'accounts:users.createdTitle', user: userView(user), password, created: true });
    }),
  );

  router.get('/users/:id', manage, async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    const user = await accounts.getManageableUser(orm.em, requireActor(res), deps.directory, id);
    res.render('accounts/user', { title: 'accounts:users.userTitle', user: userView(user), roles: assignableRoles(requireActor(res)) });
  });

  router.post('/users/:id/reset-password', manage, async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    const user = await accounts.getManageableUser(orm.em, requireActor(res), deps.directory, id);
    const password = await accounts.resetPassword(orm.em, user);
    await endSessionsOf(deps.sessionPool, user.id);
    res.render('accounts/one-time-password', { title: 'accounts:users.resetTitle', user: userView(user), password });
  });

  router.post('/users/:id/active', manage, async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    const { active } = parseForm(z.object({ active: z.enum(['yes', 'no']) }), req.body);
    const user = await accounts.getManageableUser(orm.em, requireActor(res), deps.directory, id);
    await accounts.setActive(orm.em, user, active === 'yes');
    if (active === 'no') await endSessionsOf(deps.sessionPool, user.id);
    req.session.notice = { key: active === 'yes' ? 'accounts:users.activated' : 'accounts:users.deactivated' };
    res.redirect(303, `/users/${user.id}`);
  });

  router.post('/users/:id/role', manage, async (req, res) => {
    const { id } = parseParams(idParam, req.params);
    const { role } = parseForm(z.object({ role: z.enum(ROLES) }), req.body);
    const actor = requireActor(res);
    const user = await accounts.getManageableUser(orm.em, actor, deps.directory, id);
    await accounts.setRole(orm.em, actor, user, role);
    req.session.notice = { key: 'accounts:users.roleChanged' };
    res.redirect(303, `/users/${user.id}`);
  });

  return router;
}

function parseLanguage(req: Request) {
  const parsed = languageSchema.safeParse(req.body ?? {});
  return parsed.success ? parsed.data : { lng: 'en' as const, next: '/' };
}

function languageCookie(tls: boolean) {
  return { httpOnly: true, sameSite: 'lax' as const, secure: tls, maxAge: 365 * 24 * 3600 * 1000 };
}

export function languageChoices() {
  return LANGUAGES.map((code) => ({ code, name: LANGUAGE_NAMES[code] }));
}

function profileChoices(res: Response) {
  const language = (res.locals.language as string) ?? 'en';
  const names = new Intl.DisplayNames([language, 'en'], { type: 'region' });
  const actor = requireActor(res);
  return {
    title: 'accounts:profile.title',
    languages: languageChoices(),
    timeZones: COMMON_TIME_ZONES.includes(actor.timeZone) ? COMMON_TIME_ZONES : [actor.timeZone, ...COMMON_TIME_ZONES],
    sexes: SEXES,
    legalStatuses: LEGAL_STATUSES,
    countries: COUNTRY_CODES.map((code) => ({ code, name: names.of(code) ?? code })).sort((a, b) => a.name.localeCompare(b.name, language)),
  };
}

function profileValues(u: User) {
  return {
    displayName: u.displayName,
    language: u.language ?? '',
    timeZone: u.timeZone,
    dataSaver: u.dataSaver,
    phone: u.phone ?? '',
    sex: u.sex ?? '',
    birthYear: u.birthYear ?? '',
    nationality: u.nationality ?? '',
    legalStatus: u.legalStatus ?? '',
    disability: u.disability === null || u.disability === undefined ? '' : u.disability ? 'yes' : 'no',
  };
}

function userView(u: User) {
  return { id: u.id, username: u.username, displayName: u.displayName, role: u.role, phone: u.phone, active: u.active, language: u.language };
}
