/**
 * Progress: page visits, "done", quiz attempts, study time and course completion. Each fact is
 * written with an upsert under a unique constraint, so a double tap, a retried request or a
 * replayed offline answer never makes a second record.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { runPrepared, statement } from '../platform/prepared.ts';

function placeholders(ids: readonly unknown[]) {
  return ids.map(() => '?').join(',');
}

/** Seconds a visit earns: the time since it began, capped at twice the lesson's minutes (5 minutes to an hour). Needs p (progress) and l (lesson); $1 is now. */
const creditedSeconds = `LEAST(GREATEST(floor(extract(epoch FROM ($1::timestamptz - p.visit_started_at)))::int, 0),
                    LEAST(3600, GREATEST(300, l.minutes * 120)))`;

/**
 * Credits the learner's open visits to their lessons and to the day they began, then
 * closes them. A visit counts until the learner's next lesson page or completion, capped at twice
 * the lesson's estimated minutes (at least 5 minutes, at most an hour): a phone left on a lesson
 * overnight is not a night of study. A visit closed by two requests at once is credited once: the update only touches a
 * row whose visit is still the one that was read.
 */
export async function closeOpenVisits(em: EntityManager, learnerId: number, now: Date) {
  await em.execute(
    `WITH open AS (
       SELECT p.id, p.visit_started_at AS started,
              LEAST(GREATEST(floor(extract(epoch FROM (?::timestamptz - p.visit_started_at)))::int, 0),
                    LEAST(3600, GREATEST(300, l.minutes * 120))) AS secs
       FROM lesson_progress p JOIN lessons l ON l.id = p.lesson_id
       WHERE p.learner_id = ? AND p.visit_started_at IS NOT NULL),
     closed AS (
       UPDATE lesson_progress lp SET visit_started_at = NULL, seconds_spent = lp.seconds_spent + open.secs
       FROM open WHERE lp.id = open.id AND lp.visit_started_at = open.started
       RETURNING lp.learner_id, lp.lesson_id, lp.course_id, open.secs, (open.started AT TIME ZONE 'UTC')::date AS day)
     INSERT INTO study_time (learner_id, lesson_id, course_id, day, seconds)
     SELECT learner_id, lesson_id, course_id, day, secs FROM closed WHERE secs > 0
     ON CONFLICT (learner_id, lesson_id, day) DO UPDATE SET seconds = study_time.seconds + excluded.seconds`,
    [now, learnerId],
  );
}

/**
 * A learner opened a lesson page: close the previous visits, start this one (and the lesson, the
 * first time), in one statement, and return the learner's progress on it. The visits of other
 * lessons are closed as in closeOpenVisits. This lesson's own open visit (a reload) is read under
 * a row lock before the upsert restarts it, so two reloads at once credit each stretch of time once.
 */
export async function recordVisit(em: EntityManager, learnerId: number, lesson: { id: number; courseId: number }, now = new Date()) {
  const [row] = await runPrepared<{ completed_at: string | null; best_score: number | null; attempts: number }>(em, visitStatement, [now, learnerId, lesson.id, lesson.courseId]);
  return { completedAt: row?.completed_at ? new Date(row.completed_at) : null, bestScore: row?.best_score ?? null, attempts: row?.attempts ?? 0 };
}

/** recordVisit's statement, prepared (every lesson a learner opens runs it): $1 now, $2 the learner, $3 the lesson, $4 its course. */
const visitStatement = statement(
  `WITH open AS (
     SELECT p.id, p.visit_started_at AS started, ${creditedSeconds} AS secs
     FROM lesson_progress p JOIN lessons l ON l.id = p.lesson_id
     WHERE p.learner_id = $2 AND p.visit_started_at IS NOT NULL AND p.lesson_id <> $3),
   closed AS (
     UPDATE lesson_progress lp SET visit_started_at = NULL, seconds_spent = lp.seconds_spent + open.secs
     FROM open WHERE lp.id = open.id AND lp.visit_started_at = open.started
     RETURNING lp.lesson_id, lp.course_id, open.secs, (open.started AT TIME ZONE 'UTC')::date AS day),
   reload AS MATERIALIZED (
     SELECT p.visit_started_at AS started, coalesce(${creditedSeconds}, 0) AS secs
     FROM lesson_progress p JOIN lessons l ON l.id = p.lesson_id
     WHERE p.learner_id = $2 AND p.lesson_id = $3 FOR UPDATE OF p),
   visit AS (
     INSERT INTO lesson_progress (learner_id, lesson_id, course_id, started_at, last_visited_at, visit_started_at, attempts, seconds_spent)
     SELECT $2, $3, $4, $1, $1, $1, 0, coalesce((SELECT secs FROM reload), 0)
     ON CONFLICT (learner_id, lesson_id) DO UPDATE SET last_visited_at = excluded.last_visited_at, visit_started_at = excluded.visit_started_at,
       seconds_spent = lesson_progress.seconds_spent + excluded.seconds_spent
     RETURNING completed_at, best_score, attempts),
   credited AS (
     INSERT INTO study_time (learner_id, lesson_id, course_id, day, seconds)
     SELECT $2, lesson_id, course_id, day, secs FROM closed WHERE secs > 0
     UNION ALL SELECT $2, $3, $4, (started AT TIME ZONE 'UTC')::date, secs FROM reload WHERE secs > 0
     ON CONFLICT (learner_id, lesson_id, day) DO UPDATE SET seconds = study_time.seconds + excluded.seconds)
   SELECT completed_at, best_score, attempts FROM visit`,
);

/**
 * Marks a lesson done. Idempotent: the first completion time stays. Returns whether the course is
 * now complete.
 */
export async function completeLesson(em: EntityManager, learnerId: number, lesson: { id: number; courseId: number }, now = new Date()) {
  await closeOpenVisits(em, learnerId, now);
  await em.execute(
    `INSERT INTO lesson_progress (learner_id, lesson_id, course_id, started_at, last_visited_at, completed_at, attempts, seconds_spent)
     VALUES (?, ?, ?, ?, ?, ?, 0, 0)
     ON CONFLICT (learner_id, lesson_id) DO UPDATE SET completed_at = COALESCE(lesson_progress.completed_at, excluded.completed_at)`,
    [learnerId, lesson.id, lesson.courseId, now, now, now],
  );
  return completeCourseIfDone(em, learnerId, lesson.courseId, now);
}

/** Records one graded quiz attempt on the learner's progress: one more attempt, best score kept, done once passed. */
export async function recordQuizResult(em: EntityManager, learnerId: number, lesson: { id: number; courseId: number }, score: number, passed: boolean, now = new Date()) {
  await closeOpenVisits(em, learnerId, now);
  await em.execute(
    `INSERT INTO lesson_progress (learner_id, lesson_id, course_id, started_at, last_visited_at, completed_at, attempts, best_score, seconds_spent)
     VALUES (?, ?, ?, ?, ?, ?, 1, ?, 0)
     ON CONFLICT (learner_id, lesson_id) DO UPDATE SET
       attempts = lesson_progress.attempts + 1,
       best_score = GREATEST(lesson_progress.best_score, excluded.best_score),
       completed_at = COALESCE(lesson_progress.completed_at, excluded.completed_at)`,
    [learnerId, lesson.id, lesson.courseId, now, now, passed ? now : null, score],
  );
  return passed ? completeCourseIfDone(em, learnerId, lesson.courseId, now) : false;
}

/** A course is complete when every current lesson is done; recorded once. */
export async function completeCourseIfDone(em: EntityManager, learnerId: number, courseId: number, now = new Date()) {
  const [row] = (await em.execute(
    `SELECT count(*)::int AS total, count(p.completed_at)::int AS done
     FROM lessons l LEFT JOIN lesson_progress p ON p.lesson_id = l.id AND p.learner_id = ?
     WHERE l.course_id = ? AND l.retired = false`,
    [learnerId, courseId],
  )) as { total: number; done: number }[];
  if (!row || row.total === 0 || row.done < row.total) return false;
  await em.execute(
    `INSERT INTO course_completions (learner_id, course_id, completed_at) VALUES (?, ?, ?) ON CONFLICT (learner_id, course_id) DO NOTHING`,
    [learnerId, courseId, now],
  );
  return true;
}

function zeroes(ids: number[]) {
  return new Map(ids.map((id) => [id, 0]));
}

/** Lessons each learner completed with completedAt in [from, to). Every asked learner has an entry. */
export async function lessonsCompletedBy(em: EntityManager, learnerIds: number[], from: Date, to: Date): Promise<Map<number, number>> {
  const out = zeroes(learnerIds);
  if (!learnerIds.length) return out;
  const rows = (await em.execute(
    `SELECT learner_id, count(*)::int AS n FROM lesson_progress
     WHERE learner_id IN (${placeholders(learnerIds)}) AND completed_at >= ? AND completed_at < ? GROUP BY learner_id`,
    [...learnerIds, from, to],
  )) as { learner_id: number; n: number }[];
  for (const r of rows) out.set(r.learner_id, r.n);
  return out;
}

/**
 * Seconds each learner studied on the UTC days that [from, to) touches (study time is kept per
 * day, so a period that starts or ends mid-day counts that whole day). Every asked learner has an entry.
 */
export async function studySecondsBy(em: EntityManager, learnerIds: number[], from: Date, to: Date): Promise<Map<number, number>> {
  const out = zeroes(learnerIds);
  if (!learnerIds.length || to <= from) return out;
  const rows = (await em.execute(
    `SELECT learner_id, sum(seconds)::int AS s FROM study_time
     WHERE learner_id IN (${placeholders(learnerIds)})
       AND day >= (?::timestamptz AT TIME ZONE 'UTC')::date
       AND day <= ((?::timestamptz - interval '1 millisecond') AT TIME ZONE 'UTC')::date
     GROUP BY learner_id`,
    [...learnerIds, from, to],
  )) as { learner_id: number; s: number }[];
  for (const r of rows) out.set(r.learner_id, r.s);
  return out;
}

export interface QuizScore {
  learnerId: number;
  lessonId: number;
  lessonTitle: string;
  courseId: number;
  bestScore: number;
}

/** Best quiz score per learner and quiz lesson (only quizzes they attempted), optionally within some courses. */
export async function quizScoresFor(em: EntityManager, learnerIds: number[], courseIds?: number[]): Promise<QuizScore[]> {
  if (!learnerIds.length || (courseIds && !courseIds.length)) return [];
  const courseFilter = courseIds ? `AND p.course_id IN (${placeholders(courseIds)})` : '';
  const rows = (await em.execute(
    `SELECT p.learner_id, p.lesson_id, l.title, p.course_id, p.best_score
     FROM lesson_progress p JOIN lessons l ON l.id = p.lesson_id
     WHERE p.learner_id IN (${placeholders(learnerIds)}) AND p.best_score IS NOT NULL ${courseFilter}
     ORDER BY p.learner_id, p.course_id, l.position`,
    [...learnerIds, ...(courseIds ?? [])],
  )) as { learner_id: number; lesson_id: number; title: string; course_id: number; best_score: number }[];
  return rows.map((r) => ({ learnerId: r.learner_id, lessonId: r.lesson_id, lessonTitle: r.title, courseId: r.course_id, bestScore: r.best_score }));
}
