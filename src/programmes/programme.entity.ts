import { defineEntity, p } from '@mikro-orm/core';
import { User } from '../accounts/index.ts';

const ProgrammeSchema = defineEntity({
  name: 'Programme',
  tableName: 'programmes',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(160).unique(),
    description: p.text().nullable(),
    coordinators: () => p.manyToMany(User).pivotTable('programme_coordinators').owner(),
    sites: () => p.oneToMany(Site).mappedBy('programme'),
    cohorts: () => p.oneToMany(Cohort).mappedBy('programme'),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class Programme extends ProgrammeSchema.class {}
ProgrammeSchema.setClass(Programme);

const SiteSchema = defineEntity({
  name: 'Site',
  tableName: 'sites',
  uniques: [{ properties: ['programme', 'name'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    programme: () => p.manyToOne(Programme).ref(),
    name: p.string().length(160),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class Site extends SiteSchema.class {}
SiteSchema.setClass(Site);

/** A class of learners with its teachers; what learners join and teachers teach. */
const CohortSchema = defineEntity({
  name: 'Cohort',
  tableName: 'cohorts',
  uniques: [{ properties: ['programme', 'name'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    programme: () => p.manyToOne(Programme).ref(),
    site: () => p.manyToOne(Site).nullable().ref(),
    name: p.string().length(160),
    /** Short code a learner types to join; upper-case letters and digits without look-alikes. */
    enrolmentCode: p.string().length(12).unique(),
    teachers: () => p.manyToMany(User).pivotTable('cohort_teachers').owner(),
    enrolments: () => p.oneToMany(Enrolment).mappedBy('cohort'),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class Cohort extends CohortSchema.class {}
CohortSchema.setClass(Cohort);

export const ENROLMENT_STATUSES = ['active', 'withdrawn', 'completed'] as const;

const EnrolmentSchema = defineEntity({
  name: 'Enrolment',
  tableName: 'enrolments',
  uniques: [{ properties: ['cohort', 'learner'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    cohort: () => p.manyToOne(Cohort).ref(),
    learner: () => p.manyToOne(User).ref().index(),
    status: p.enum(ENROLMENT_STATUSES).default('active'),
    enrolledAt: p.datetime().onCreate(() => new Date()),
    withdrawnAt: p.datetime().nullable(),
  },
});
export class Enrolment extends EnrolmentSchema.class {}
EnrolmentSchema.setClass(Enrolment);

export { ProgrammeSchema, SiteSchema, CohortSchema, EnrolmentSchema };
