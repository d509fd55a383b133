import { defineEntity, p } from '@mikro-orm/core';

export const ROLES = ['learner', 'teacher', 'coordinator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The facts programmes report on. All optional: a learner may keep any of them to themselves. */
export const SEXES = ['female', 'male', 'other'] as const;
export const LEGAL_STATUSES = [
  'refugee',
  'asylum_seeker',
  'international_protection',
  'migrant',
  'host_community',
  'other',
] as const;

const UserSchema = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.integer().primary().autoincrement(),
    /** Stored lower-case; people type their name on phone keyboards that capitalise. */
    username: p.string().length(64).unique(),
    /** E.164; the number allowances are sent to and a second way to log in. */
    phone: p.string().length(16).nullable().unique(),
    passwordHash: p.string().length(255).hidden().lazy(),
    /** Set by a reset: the one-time password must be replaced at next login. */
    mustChangePassword: p.boolean().default(false),
    role: p.enum(ROLES).default('learner'),
    displayName: p.string().length(120),
    language: p.string().length(8).nullable(),
    timeZone: p.string().length(64).default('UTC'),
    dataSaver: p.boolean().default(false),
    sex: p.enum(SEXES).nullable(),
    birthYear: p.integer().nullable(),
    /** ISO 3166-1 alpha-2. */
    nationality: p.string().length(2).nullable(),
    legalStatus: p.enum(LEGAL_STATUSES).nullable(),
    disability: p.boolean().nullable(),
    active: p.boolean().default(true),
    failedLogins: p.integer().default(0),
    lockedUntil: p.datetime().nullable(),
    createdBy: () => p.manyToOne(User).nullable().ref(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

export class User extends UserSchema.class {}
UserSchema.setClass(User);
export { UserSchema };
