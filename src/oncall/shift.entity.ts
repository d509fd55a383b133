import { defineEntity, p } from '@mikro-orm/core';
import { User } from '../accounts/index.ts';
import { Cohort } from '../programmes/index.ts';

/**
 * One weekly on-call window of a teacher for a cohort: ISO weekday (1 = Monday) and minutes since
 * midnight, in the time zone the teacher had when setting it. Kept as wall-clock time, so a shift
 * stays at 18:00 across daylight-saving changes; PostgreSQL turns it into instants when asked.
 */
const ShiftSchema = defineEntity({
  name: 'Shift',
  tableName: 'oncall_shifts',
  uniques: [{ properties: ['cohort', 'teacher', 'weekday', 'startMinute'] }],
  indexes: [{ properties: ['teacher'] }],
  // Written as PostgreSQL prints them back, so later schema diffs see no change.
  checks: [
    { name: 'oncall_shifts_weekday_check', expression: '(weekday >= 1) AND (weekday <= 7)' },
    { name: 'oncall_shifts_window_check', expression: '(start_minute >= 0) AND (end_minute <= 1440) AND (start_minute < end_minute)' },
  ],
  properties: {
    id: p.integer().primary().autoincrement(),
    cohort: () => p.manyToOne(Cohort).ref(),
    teacher: () => p.manyToOne(User).ref(),
    weekday: p.smallint(),
    startMinute: p.smallint(),
    endMinute: p.smallint(),
    timeZone: p.string().length(64),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class Shift extends ShiftSchema.class {}
ShiftSchema.setClass(Shift);

export { ShiftSchema };
