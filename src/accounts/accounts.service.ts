import type { FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { Actor, RoleName } from '../platform/actor.ts';
import { Conflict, Forbidden, InvalidInput, NotFound } from '../platform/errors.ts';
import { runPrepared, statement } from '../platform/prepared.ts';
import { assignableRoles, manageableUsersFilter } from './accounts.policy.ts';
import type { NewUserInput, ProfileInput } from './accounts.schemas.ts';
import { hashPassword, oneTimePassword, verifyPassword } from './password.ts';
import { User } from './user.entity.ts';

export interface LoginPolicy {
  maxFailures: number;
  lockMinutes: number;
}

export type LoginResult =
  | { ok: true; user: User }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; minutes: number };

/** People log in with a username or a phone number; both are normalised the way they are stored. */
export function loginLookup(login: string): FilterQuery<User> {
  const trimmed = login.trim();
  if (/^\+?[\d\s().-]{6,}$/.test(trimmed)) return { phone: '+' + trimmed.replace(/\D/g, '') };
  return { username: trimmed.toLowerCase() };
}

export async function authenticate(em: EntityManager, login: string, password: string, policy: LoginPolicy, now = new Date()): Promise<LoginResult> {
  const user = await em.findOne(User, loginLookup(login), { populate: ['passwordHash'] });
  if (user?.lockedUntil && user.lockedUntil > now) {
    return { ok: false, reason: 'locked', minutes: Math.ceil((user.lockedUntil.getTime() - now.getTime()) / 60000) };
  }
  const ok = await verifyPassword(user?.passwordHash, password);
  if (!user || !user.active) return { ok: false, reason: 'invalid' };
  if (!ok) {
    // One UPDATE with the increment in SQL, so parallel guesses cannot slip past the count.
    const [row] = (await em.execute(
      `UPDATE users SET failed_logins = failed_logins + 1,
         locked_until = CASE WHEN failed_logins + 1 >= ? THEN ?::timestamptz ELSE locked_until END
       WHERE id = ? RETURNING failed_logins`,
      [policy.maxFailures, new Date(now.getTime() + policy.lockMinutes * 60000).toISOString(), user.id],
    )) as { failed_logins: number }[];
    if (row && row.failed_logins >= policy.maxFailures) {
      await em.execute('UPDATE users SET failed_logins = 0 WHERE id = ?', [user.id]);
      return { ok: false, reason: 'locked', minutes: policy.lockMinutes };
    }
    return { ok: false, reason: 'invalid' };
  }
  user.failedLogins = 0;
  user.lockedUntil = null;
  await em.flush();
  return { ok: true, user };
}

export function toActor(user: User): Actor {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    displayName: user.displayName,
    language: user.language ?? null,
    timeZone: user.timeZone,
    dataSaver: user.dataSaver,
    mustChangePassword: user.mustChangePassword,
  };
}

/**
 * Something another slice shows on every signed-in page (the unread notices in the menu), read in
 * the statement that loads the signed-in user: one round trip to the database instead of two.
 */
export interface ReadWithUser {
  /** A scalar subquery over the slice's own tables, correlated with the user row as `users.id`. */
  sql: string;
  /** Puts the value read on the page's res.locals. */
  apply: (locals: Record<string, unknown>, value: unknown) => void;
}

type ActorRow = { id: number; username: string; role: Actor['role']; display_name: string; language: string | null; time_zone: string; data_saver: boolean; must_change_password: boolean };

/**
 * The signed-in user of every request. Read as one plain row rather than an entity: a managed
 * entity costs about four times the CPU of the query itself, on every page, and no request
 * changes its own actor through this object. A prepared statement, since every signed-in request
 * runs it. `withUser` values come back in `extras`, in the same order.
 */
export function activeActorReader(withUser: readonly ReadWithUser[] = []) {
  const extraColumns = withUser.map((w, i) => `, (${w.sql}) AS extra_${i}`).join('');
  const st = statement(`SELECT id, username, role, display_name, language, time_zone, data_saver, must_change_password${extraColumns} FROM users WHERE id = $1 AND active`);
  return async (em: EntityManager, id: number): Promise<{ actor: Actor; extras: unknown[] } | undefined> => {
    const [row] = await runPrepared<ActorRow & Record<string, unknown>>(em, st, [id]);
    if (!row) return undefined;
    return {
      actor: {
        id: row.id,
        username: row.username,
        role: row.role,
        displayName: row.display_name,
        language: row.language ?? null,
        timeZone: row.time_zone,
        dataSaver: row.data_saver,
        mustChangePassword: row.must_change_password,
      },
      extras: withUser.map((_, i) => row[`extra_${i}`]),
    };
  };
}

export async function getUser(em: EntityManager, id: number): Promise<User> {
  const user = await em.findOne(User, id);
  if (!user) throw new NotFound();
  return user;
}

export async function changePassword(em: EntityManager, actor: Actor, current: string | undefined, next: string) {
  const user = await em.findOneOrFail(User, actor.id, { populate: ['passwordHash'] });
  // After a reset the one-time password was just typed to sign in; asking for it again helps no one.
  if (!user.mustChangePassword && !(await verifyPassword(user.passwordHash, current ?? ''))) {
    throw new InvalidInput({ currentPassword: { key: 'accounts:errors.currentPasswordWrong' } });
  }
  user.passwordHash = await hashPassword(next);
  user.mustChangePassword = false;
  await em.flush();
}

export async function updateProfile(em: EntityManager, actor: Actor, input: ProfileInput) {
  const user = await em.findOneOrFail(User, actor.id);
  // Copy only what the form may set: role, username and the rest stay out of reach.
  user.displayName = input.displayName;
  user.language = input.language;
  user.timeZone = input.timeZone;
  user.dataSaver = input.dataSaver;
  user.phone = input.phone ?? null;
  user.sex = input.sex ?? null;
  user.birthYear = input.birthYear ?? null;
  user.nationality = input.nationality ?? null;
  user.legalStatus = input.legalStatus ?? null;
  user.disability = input.disability ?? null;
  await flushUnique(em, { phone: 'accounts:errors.phoneTaken' });
  return user;
}

export async function setLanguage(em: EntityManager, actor: Actor, language: string) {
  await em.nativeUpdate(User, { id: actor.id }, { language });
}

export interface UserDirectory {
  /** Users in the actor's programmes, from the programmes slice. */
  inProgrammesOf: (em: EntityManager, actor: Actor) => Promise<FilterQuery<User>>;
}

export async function listUsers(em: EntityManager, actor: Actor, dir: UserDirectory, q: string | undefined, page: number) {
  const filter: FilterQuery<User> = { $and: [manageableUsersFilter(actor, await dir.inProgrammesOf(em, actor))] };
  if (q) {
    const like = `%${q.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    (filter.$and as FilterQuery<User>[]).push({ $or: [{ username: { $ilike: like } }, { displayName: { $ilike: like } }, { phone: { $ilike: like } }] });
  }
  const [users, total] = await em.findAndCount(User, filter, { orderBy: { displayName: 'asc', id: 'asc' }, limit: 50, offset: (page - 1) * 50 });
  return { users, total, pages: Math.max(1, Math.ceil(total / 50)) };
}

/** A user the actor may manage, or 404 — never revealing that the id exists elsewhere. */
export async function getManageableUser(em: EntityManager, actor: Actor, dir: UserDirectory, id: number): Promise<User> {
  const user = await em.findOne(User, { $and: [{ id }, manageableUsersFilter(actor, await dir.inProgrammesOf(em, actor))] });
  if (!user) throw new NotFound();
  return user;
}

/** Creates an account with a one-time password, which is returned once to be handed over. */
export async function createUser(em: EntityManager, actor: Actor, input: NewUserInput & { password?: string }) {
  if (!assignableRoles(actor).includes(input.role)) throw new Forbidden();
  const password = input.password ?? oneTimePassword();
  const user = em.create(User, {
    username: input.username,
    displayName: input.displayName,
    role: input.role,
    phone: input.phone ?? null,
    language: input.language ?? null,
    passwordHash: await hashPassword(password),
    mustChangePassword: input.password === undefined,
    createdBy: actor.id,
  });
  await flushUnique(em, { username: 'accounts:errors.usernameTaken', phone: 'accounts:errors.phoneTaken' });
  return { user, password };
}

export async function resetPassword(em: EntityManager, user: User) {
  const password = oneTimePassword();
  user.passwordHash = await hashPassword(password);
  user.mustChangePassword = true;
  user.failedLogins = 0;
  user.lockedUntil = null;
  await em.flush();
  return password;
}

export async function setActive(em: EntityManager, user: User, active: boolean) {
  user.active = active;
  await em.flush();
}

export async function setRole(em: EntityManager, actor: Actor, user: User, role: RoleName) {
  if (!assignableRoles(actor).includes(role)) throw new Forbidden();
  user.role = role;
  await em.flush();
}

/** Turns a unique-constraint violation on a known column into a message beside that field. */
async function flushUnique(em: EntityManager, messages: Record<string, string>) {
  try {
    await em.flush();
  } catch (err) {
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
    em.clear();
    const detail = String((err as { detail?: string }).detail ?? err.message);
    const hit = Object.keys(messages).find((f) => detail.includes(`(${f})`) || detail.includes(`(${snake(f)})`));
    if (!hit) throw new Conflict('errors:conflict.body');
    throw new InvalidInput({ [hit]: { key: messages[hit]! } });
  }
}

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
