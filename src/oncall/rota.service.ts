/**
 * The on-call rota: when a teacher is there for a cohort. Shifts are weekly wall-clock windows in
 * the teacher's time zone; PostgreSQL turns them into instants (daylight saving included), and
 * the learner reads them in their own time zone.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { User } from '../accounts/index.ts';
import type { Actor } from '../platform/actor.ts';
import { Forbidden, InvalidInput, NotFound } from '../platform/errors.ts';
import { Cohort, cohortsOfTeacher } from '../programmes/index.ts';
import { shiftsManagedBy } from './oncall.policy.ts';
import { Shift } from './shift.entity.ts';

export interface ShiftInput {
  cohortId: number;
  weekday: number;
  /** Minutes since midnight. */
  start: number;
  end: number;
}

export async function teacherShifts(em: EntityManager, actor: Actor) {
  if (actor.role !== 'teacher') throw new Forbidden();
  const shifts = await em.find(Shift, shiftsManagedBy(actor), { populate: ['cohort'], orderBy: [{ cohort: { name: 'asc' } }, { weekday: 'asc' }, { startMinute: 'asc' }] });
  return shifts.map((s) => ({ id: s.id, cohortId: s.cohort.id, cohort: s.cohort.getEntity().name, weekday: s.weekday, start: s.startMinute, end: s.endMinute, timeZone: s.timeZone }));
}

export async function addShift(em: EntityManager, actor: Actor, input: ShiftInput) {
  if (actor.role !== 'teacher') throw new Forbidden();
  const mine = await cohortsOfTeacher(em, actor.id);
  if (!mine.some((c) => c.id === input.cohortId)) throw new InvalidInput({ cohortId: { key: 'validation:choose' } });
  if (input.end <= input.start) throw new InvalidInput({ end: { key: 'oncall:rota.endBeforeStart' } });
  const overlapping = await em.count(Shift, {
    teacher: actor.id,
    cohort: input.cohortId,
    weekday: input.weekday,
    startMinute: { $lt: input.end },
    endMinute: { $gt: input.start },
  });
  if (overlapping) throw new InvalidInput({ start: { key: 'oncall:rota.overlaps' } });
  em.create(Shift, {
    cohort: em.getReference(Cohort, input.cohortId),
    teacher: em.getReference(User, actor.id),
    weekday: input.weekday,
    startMinute: input.start,
    endMinute: input.end,
    timeZone: actor.timeZone,
  });
  try {
    await em.flush();
  } catch (err) {
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
    em.clear();
    throw new InvalidInput({ start: { key: 'oncall:rota.overlaps' } });
  }
}

export async function removeShift(em: EntityManager, actor: Actor, shiftId: number) {
  const removed = await em.nativeDelete(Shift, { $and: [{ id: shiftId }, shiftsManagedBy(actor)] });
  if (!removed) throw new NotFound();
}

export interface OnCallWindow {
  teacher: string;
  cohort: string;
  startsAt: Date;
  endsAt: Date;
  /** A teacher is on call right now. */
  now: boolean;
}

/**
 * The next on-call windows (the current one first, if any) of the given cohorts, counting only
 * shifts of teachers who still teach there. Each shift's dates are computed in its own time zone,
 * from yesterday to a week ahead, so every weekday appears at least once.
 */
export async function upcomingWindows(em: EntityManager, cohortIds: number[], now: Date, limit = 3): Promise<OnCallWindow[]> {
  if (cohortIds.length === 0) return [];
  const cohorts = await em.find(Cohort, { id: { $in: cohortIds } }, { populate: ['teachers'] });
  const pairs = cohorts.flatMap((c) => c.teachers.getItems().map((t) => ({ cohortId: c.id, cohort: c.name, teacherId: t.id, teacher: t.displayName })));
  if (pairs.length === 0) return [];
  const rows = (await em.execute(
    `SELECT s.cohort_id, s.teacher_id, w.starts_at, w.ends_at
       FROM oncall_shifts s
       CROSS JOIN LATERAL (
         SELECT (d::date + make_interval(mins => s.start_minute)) AT TIME ZONE s.time_zone AS starts_at,
                (d::date + make_interval(mins => s.end_minute)) AT TIME ZONE s.time_zone AS ends_at
           FROM generate_series((?::timestamptz AT TIME ZONE s.time_zone)::date - 1,
                                (?::timestamptz AT TIME ZONE s.time_zone)::date + 7, interval '1 day') AS d
          WHERE extract(isodow FROM d) = s.weekday
       ) w
      WHERE (s.cohort_id, s.teacher_id) IN (${pairs.map(() => '(?, ?)').join(', ')}) AND w.ends_at > ?
      ORDER BY w.starts_at, s.id
      LIMIT ?`,
    [now, now, ...pairs.flatMap((p) => [p.cohortId, p.teacherId]), now, limit],
  )) as { cohort_id: number; teacher_id: number; starts_at: Date; ends_at: Date }[];
  return rows.map((r) => {
    const pair = pairs.find((p) => p.cohortId === r.cohort_id && p.teacherId === r.teacher_id)!;
    const startsAt = new Date(r.starts_at);
    return { teacher: pair.teacher, cohort: pair.cohort, startsAt, endsAt: new Date(r.ends_at), now: startsAt <= now };
  });
}
