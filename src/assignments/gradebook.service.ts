/**
 * The gradebook: a cohort's learners × its assignments (score, late, missing) with totals, and
 * optionally the learners' best quiz scores from the cohort's courses. Staff see draft grades
 * marked as such; a learner's own export holds released grades only.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { stringify } from 'csv-stringify';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { coursesOfCohort, quizScoresFor } from '../courses/index.ts';
import type { Actor } from '../platform/actor.ts';
import { Forbidden, NotFound } from '../platform/errors.ts';
import { getCohort } from '../programmes/index.ts';
import { Assignment, Grade, Submission, SubmissionVersion } from './assignment.entity.ts';
import { deadlinesFor, extensionsOf, learnersOf } from './assignments.service.ts';

export interface GradebookCell {
  score: number | null;
  released: boolean;
  late: boolean;
  lateSeconds: number;
  missing: boolean;
  handedIn: boolean;
  submissionId: number | null;
}

export interface Gradebook {
  cohort: { id: number; name: string; programme: string };
  assignments: { id: number; title: string; maxPoints: number; dueAt: Date }[];
  quizzes: { lessonId: number; title: string; course: string }[];
  rows: {
    learnerId: number;
    displayName: string;
    username: string;
    cells: GradebookCell[];
    quizScores: (number | null)[];
    total: number;
    possible: number;
    missing: number;
    late: number;
  }[];
}

export async function gradebook(em: EntityManager, actor: Actor, cohortId: number, opts: { quizzes: boolean }, now = new Date()): Promise<Gradebook> {
  if (actor.role === 'learner') throw new Forbidden();
  const cohort = await getCohort(em, actor, cohortId);
  const assignments = await em.find(Assignment, { cohorts: cohort.id }, { orderBy: { dueAt: 'asc', id: 'asc' } });
  const learners = await learnersOf(em, [cohort.id]);
  const learnerIds = learners.map((l) => l.learnerId);
  const submissions = assignments.length && learnerIds.length ? await em.find(Submission, { assignment: { $in: assignments.map((a) => a.id) }, learner: { $in: learnerIds } }) : [];
  const grades = submissions.length ? await em.find(Grade, { submission: { $in: submissions.map((s) => s.id) } }) : [];
  const versions = submissions.length ? await em.find(SubmissionVersion, { submission: { $in: submissions.map((s) => s.id) } }) : [];
  const extensions = await extensionsOf(em, assignments.map((a) => a.id));

  let quizzes: Gradebook['quizzes'] = [];
  let quizScore = new Map<string, number>();
  if (opts.quizzes) {
    const courses = await coursesOfCohort(em, cohort.id);
    const scores = await quizScoresFor(em, learnerIds, courses.map((c) => c.id));
    const titles = new Map(courses.map((c) => [c.id, c.title]));
    const seen = new Map<number, Gradebook['quizzes'][number]>();
    for (const s of scores) if (!seen.has(s.lessonId)) seen.set(s.lessonId, { lessonId: s.lessonId, title: s.lessonTitle, course: titles.get(s.courseId) ?? '' });
    quizzes = [...seen.values()];
    quizScore = new Map(scores.map((s) => [`${s.learnerId}:${s.lessonId}`, s.bestScore]));
  }

  const rows = learners.map((l) => {
    const cells = assignments.map((a): GradebookCell => {
      const s = submissions.find((x) => x.assignment.id === a.id && x.learner.id === l.learnerId);
      const handedIn = !!s && s.submittedVersion > 0;
      const g = s ? grades.find((x) => x.submission.id === s.id) : undefined;
      const v = s ? versions.find((x) => x.submission.id === s.id && x.number === s.submittedVersion) : undefined;
      const { dueAt } = deadlinesFor(a, extensions.get(`${a.id}:${l.learnerId}`));
      return {
        score: g?.score ?? null,
        released: !!g?.releasedAt,
        late: (v?.lateSeconds ?? 0) > 0,
        lateSeconds: v?.lateSeconds ?? 0,
        missing: !handedIn && dueAt < now,
        handedIn,
        submissionId: handedIn ? s!.id : null,
      };
    });
    return {
      ...l,
      cells,
      quizScores: quizzes.map((q) => quizScore.get(`${l.learnerId}:${q.lessonId}`) ?? null),
      total: cells.reduce((sum, c) => sum + (c.score ?? 0), 0),
      possible: assignments.reduce((sum, a) => sum + a.maxPoints, 0),
      missing: cells.filter((c) => c.missing).length,
      late: cells.filter((c) => c.late).length,
    };
  });
  return {
    cohort: { id: cohort.id, name: cohort.name, programme: cohort.programme.getEntity().name },
    assignments: assignments.map((a) => ({ id: a.id, title: a.title, maxPoints: a.maxPoints, dueAt: a.dueAt })),
    quizzes,
    rows,
  };
}

/** Text a spreadsheet would run as a formula (=, +, -, @) is written with a leading apostrophe. */
function cell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export interface CsvWords {
  learner: string;
  username: string;
  total: string;
  missing: string;
  late: string;
  draft: string;
  quiz: (title: string) => string;
}

/** Streams the gradebook as CSV: one header row, then one row per learner as it is written. */
export async function writeGradebookCsv(book: Gradebook, words: CsvWords, out: Writable) {
  const header = [
    words.learner,
    words.username,
    ...book.assignments.map((a) => `${a.title} (/${a.maxPoints})`),
    ...book.quizzes.map((q) => words.quiz(q.title)),
    words.total,
    words.missing,
    words.late,
  ];
  function* records() {
    yield header;
    for (const r of book.rows) {
      yield [
        r.displayName,
        r.username,
        ...r.cells.map((c) => (c.score !== null ? `${c.score}${c.released ? '' : ` ${words.draft}`}` : c.missing ? words.missing : '') + (c.late ? ` ${words.late}` : '')),
        ...r.quizScores.map((q) => (q === null ? '' : String(q))),
        `${r.total}/${r.possible}`,
        String(r.missing),
        String(r.late),
      ];
    }
  }
  await pipeline(Readable.from(records()), stringify({ bom: true, cast: { string: cell } }), out);
}

/** A learner's own grades: released ones only, whatever the staff have drafted. */
export async function learnerGrades(em: EntityManager, actor: Actor) {
  if (actor.role !== 'learner') throw new NotFound();
  const submissions = await em.find(Submission, { learner: actor.id, submittedVersion: { $gt: 0 } }, { populate: ['assignment'], orderBy: { assignment: { dueAt: 'asc' } } });
  const released = submissions.length ? await em.find(Grade, { submission: { $in: submissions.map((s) => s.id) }, releasedAt: { $ne: null } }) : [];
  return submissions.map((s) => {
    const g = released.find((x) => x.submission.id === s.id);
    const a = s.assignment.getEntity();
    return { title: a.title, maxPoints: a.maxPoints, submittedAt: s.lastSubmittedAt, score: g?.score ?? null, feedback: g?.feedback ?? '' };
  });
}

export async function writeLearnerGradesCsv(rows: Awaited<ReturnType<typeof learnerGrades>>, words: { assignment: string; handedIn: string; score: string; feedback: string }, out: Writable) {
  function* records() {
    yield [words.assignment, words.handedIn, words.score, words.feedback];
    for (const r of rows) yield [r.title, r.submittedAt?.toISOString() ?? '', r.score === null ? '' : `${r.score}/${r.maxPoints}`, r.feedback];
  }
  await pipeline(Readable.from(records()), stringify({ bom: true, cast: { string: cell } }), out);
}
