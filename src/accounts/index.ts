/**
 * accounts — the people who use Dars and how they sign in.
 *
 * Words: a *user* has one *role* (learner, teacher, coordinator, admin); the *actor* is the
 * signed-in user of a request; a *one-time password* is handed over on paper after a reset and
 * must be replaced at the next sign-in; *data saver* hides images until tapped.
 */
export { User, UserSchema, ROLES, SEXES, LEGAL_STATUSES, type Role } from './user.entity.ts';
export { accountsRoutes, loadCurrentUser, requireFreshPassword, safeNext, languageChoices } from './accounts.routes.ts';
export { createUser, toActor, getUser, type UserDirectory, type ReadWithUser } from './accounts.service.ts';
export { hashPassword, oneTimePassword } from './password.ts';
export { usernameField, phoneField, newPasswordField } from './accounts.schemas.ts';
export { accountCapabilities } from './accounts.policy.ts';
