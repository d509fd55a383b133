/**
 * A small school whose report figures are worked out by hand in the comments beside each record.
 * The report range is 1 April – 30 September 2026 (one six-month cycle, wholly past); targets are
 * 10 h of language and 2 h of soft skills (set by the tests through REPORT_*_HOURS).
 *
 * Programme A (coordinator A): class A1 at site S1 (offered courses L and S), class A2 (offered L).
 * Programme B (coordinator B): class B (offered L), learner b1 — never counted for A.
 *
 * learner  sex     born  nationality legal status   disability  enrolments (in A unless said)
 * l1       female  2000  SY          refugee        no          A1 10 May
 * l2       male    2010  AF          asylum_seeker  yes         A1 15 Jun, withdrew 10 Sep
 * l3       —       —     —           —              —           A2 1 Feb (before the range)
 * l4       female  1970  SY          —              —           A1 20 Sep and A2 25 Sep (one learner)
 * l5       female  1990  —           —              —           A1 5 Oct (after the range: not counted)
 * l6       male    1990  —           —              —           A2 10 Jan, withdrew 1 Mar (before: not counted)
 * b1       female  1995  SY          refugee        no          B 1 May
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { AllowanceBatch, AllowanceIssue, AllowanceScheme, AllowanceSchemeVersion, DataUsage } from '../../src/allowances/index.ts';
import { Assignment, Grade, Submission, SubmissionVersion } from '../../src/assignments/index.ts';
import { CourseCompletion, Lesson, LessonProgress, QuizAttempt, StudyTime, type Course } from '../../src/courses/index.ts';
import { Enrolment, Site, type Cohort } from '../../src/programmes/index.ts';
import type { User } from '../../src/accounts/index.ts';
import { refreshRollups } from '../../src/reports/index.ts';
import { makeCohort, makeCourse, makeProgramme, makeUser, offerCourse } from '../support/factories.ts';

export const RANGE = 'from=2026-04-01&to=2026-09-30';
export const TARGET_ENV = { REPORT_LANGUAGE_HOURS: '10', REPORT_SOFT_SKILLS_HOURS: '2' };

const at = (s: string) => new Date(s.includes('T') ? s : `${s}T12:00:00Z`);

export async function makeReportWorld(em: EntityManager) {
  const coordinatorA = await makeUser(em, 'coordinator');
  const coordinatorB = await makeUser(em, 'coordinator');
  const teacherA = await makeUser(em, 'teacher');
  const admin = await makeUser(em, 'admin');
  const learner = (over: Parameters<typeof makeUser>[2]) => makeUser(em, 'learner', over);
  const l1 = await learner({ sex: 'female', birthYear: 2000, nationality: 'SY', legalStatus: 'refugee', disability: false });
  const l2 = await learner({ sex: 'male', birthYear: 2010, nationality: 'AF', legalStatus: 'asylum_seeker', disability: true });
  const l3 = await learner({});
  const l4 = await learner({ sex: 'female', birthYear: 1970, nationality: 'SY' });
  const l5 = await learner({ sex: 'female', birthYear: 1990 });
  const l6 = await learner({ sex: 'male', birthYear: 1990 });
  const b1 = await learner({ sex: 'female', birthYear: 1995, nationality: 'SY', legalStatus: 'refugee', disability: false });

  const programmeA = await makeProgramme(em, [coordinatorA]);
  const programmeB = await makeProgramme(em, [coordinatorB]);
  const site = em.create(Site, { programme: programmeA, name: 'S1' });
  await em.flush();
  const a1 = await makeCohort(em, programmeA, { teachers: [teacherA], name: 'A1' });
  a1.site = em.getReference(Site, site.id) as never;
  const a2 = await makeCohort(em, programmeA, { name: 'A2' });
  const cb = await makeCohort(em, programmeB, { name: 'B' });
  await em.flush();

  // Course L (language): unit 1 = two text lessons, unit 2 = one quiz. Course S (soft skills): one lesson.
  const L = await makeCourse(em, { title: 'Greek A1', units: [{ lessons: ['text', 'text'] }, { lessons: ['quiz'] }] });
  const S = await makeCourse(em, { title: 'Finding work', units: [{ lessons: ['text'] }] });
  S.subject = 'soft-skills';
  await em.flush();
  await offerCourse(em, a1, L);
  await offerCourse(em, a1, S);
  await offerCourse(em, a2, L);
  await offerCourse(em, cb, L);
  const lessons = async (c: Course) => em.find(Lesson, { course: c }, { orderBy: { position: 'asc' } });
  const [L1, L2, Q] = await lessons(L);
  const [S1] = await lessons(S);

  const enrol = (cohort: Cohort, who: User, enrolledAt: string, withdrawnAt?: string) =>
    em.create(Enrolment, { cohort, learner: who, status: withdrawnAt ? 'withdrawn' : 'active', enrolledAt: at(enrolledAt), withdrawnAt: withdrawnAt ? at(withdrawnAt) : null });
  enrol(a1, l1, '2026-05-10');
  enrol(a1, l2, '2026-06-15', '2026-09-10');
  enrol(a2, l3, '2026-02-01');
  enrol(a1, l4, '2026-09-20');
  enrol(a2, l4, '2026-09-25');
  enrol(a1, l5, '2026-10-05');
  enrol(a2, l6, '2026-01-10', '2026-03-01');
  enrol(cb, b1, '2026-05-01');
  await em.flush();

  // Study time. Active in the last 30 days of the range = 1–30 Sep; last 7 = 24–30 Sep.
  const study = (who: User, lesson: Lesson, course: Course, day: string, seconds: number) => em.create(StudyTime, { learner: who, lesson, course, day, seconds });
  study(l1, L1!, L, '2026-09-28', 3600); // l1: 1 h language, active 7 and 30
  study(l1, S1!, S, '2026-09-05', 1800); //     0.5 h soft skills
  study(l1, L1!, L, '2026-10-02', 3600); //     after the range: not counted
  study(l2, L1!, L, '2026-08-20', 7200); // l2: 2 h language, not active in the last 30 days
  study(l3, L1!, L, '2026-09-10', 36000); // l3: 10 h language, active 30 not 7
  study(l3, S1!, S, '2026-07-01', 7200); //     2 h soft skills: on track (the only one)
  study(b1, L1!, L, '2026-09-29', 3600); // b1: programme B
  await em.flush();

  // Progress: l1 completes L (all three lessons) and S; l2 one lesson; l3 one lesson in the range and one after it.
  const done = (who: User, lesson: Lesson, course: Course, day: string, bestScore: number | null = null) =>
    em.create(LessonProgress, { learner: who, lesson, course, startedAt: at(day), completedAt: at(day), bestScore, attempts: bestScore === null ? 0 : 1, secondsSpent: 60, lastVisitedAt: at(day) });
  done(l1, L1!, L, '2026-06-01');
  done(l1, L2!, L, '2026-06-02');
  done(l1, Q!, L, '2026-06-03', 100);
  done(l1, S1!, S, '2026-09-05');
  done(l2, L1!, L, '2026-08-20');
  done(l3, L1!, L, '2026-07-01');
  done(l3, L2!, L, '2026-10-15');
  done(b1, L1!, L, '2026-06-01');
  done(b1, L2!, L, '2026-06-01');
  done(b1, Q!, L, '2026-06-01', 100);
  em.create(CourseCompletion, { learner: l1, course: L, completedAt: at('2026-06-03') });
  em.create(CourseCompletion, { learner: l1, course: S, completedAt: at('2026-09-05') });
  em.create(CourseCompletion, { learner: b1, course: L, completedAt: at('2026-06-01') });

  // Quiz Q: l1 50 then 100 (best 100, passed), l2 40 (failed), l3 after the range, b1 elsewhere.
  const attempt = (who: User, score: number, day: string) =>
    em.create(QuizAttempt, { learner: who, lesson: Q!, idempotencyKey: `${who.id}-${score}-${day}`, score, passed: score >= 60, results: [], submittedAt: at(day) });
  attempt(l1, 50, '2026-06-02');
  attempt(l1, 100, '2026-06-03');
  attempt(l2, 40, '2026-08-21');
  attempt(l3, 100, '2026-10-10');
  attempt(b1, 100, '2026-06-01');
  await em.flush();

  // Assignments: X for A1 due 1 Jul (expected from l1 and l2), Y for A2 due 28 Sep (l3 and l4), Z for B.
  const assignment = (title: string, cohort: Cohort, due: string) => {
    const a = em.create(Assignment, { title, instructions: 'Write.', instructionsHtml: '<p>Write.</p>', createdBy: teacherA, opensAt: at('2026-04-01'), dueAt: at(due), cutoffAt: null, forms: ['text'], maxPoints: 10, rubric: null });
    a.cohorts.add(cohort);
    return a;
  };
  const X = assignment('Assignment X', a1, '2026-07-01T12:00:00Z');
  const Y = assignment('Assignment Y', a2, '2026-09-28T12:00:00Z');
  const Z = assignment('Assignment Z', cb, '2026-07-01T12:00:00Z');
  await em.flush();
  const handIn = (a: Assignment, who: User, cohort: Cohort, submittedAt?: string, gradedAt?: string) => {
    const s = em.create(Submission, { assignment: a, learner: who, cohort, status: submittedAt ? 'submitted' : 'draft', submittedVersion: submittedAt ? 1 : 0, lastSubmittedAt: submittedAt ? at(submittedAt) : null });
    if (submittedAt) em.create(SubmissionVersion, { submission: s, number: 1, text: 'My work.', submittedAt: at(submittedAt), dueAt: a.dueAt });
    if (gradedAt) em.create(Grade, { submission: s, versionNumber: 1, score: 8, gradedBy: teacherA, gradedAt: at(gradedAt), releasedAt: at(gradedAt) });
  };
  handIn(X, l1, a1, '2026-06-30T10:00:00Z', '2026-07-02T10:00:00Z'); // graded after 48 h
  handIn(X, l2, a1); // a draft is not handed in
  handIn(Y, l3, a2, '2026-09-27T12:00:00Z', '2026-09-28T00:00:00Z'); // graded after 12 h
  handIn(Z, b1, cb, '2026-06-30T10:00:00Z', '2026-06-30T11:00:00Z');
  await em.flush();

  // Allowances: programme A, 500 MB a month, budget 2000 MB; July issued to l1 (sent), l2 (cancelled), l3 (delivered).
  const scheme = em.create(AllowanceScheme, { programme: programmeA, name: 'Data', createdBy: coordinatorA });
  const version = em.create(AllowanceSchemeVersion, { scheme, version: 1, startsOn: '2026-04-01', period: 'monthly', unit: 'megabytes', currency: null, amount: 500, budget: 2000, rule: 'enrolled', threshold: 1, cohortIds: [], siteIds: [], createdBy: coordinatorA });
  const batch = em.create(AllowanceBatch, { scheme, version, periodStart: '2026-07-01', periodEnd: '2026-07-31', idempotencyKey: `batch-${scheme.name}-${Date.now()}`, issuedCount: 3, createdBy: coordinatorA });
  const issue = (who: User, status: 'sent' | 'cancelled' | 'delivered') =>
    em.create(AllowanceIssue, { scheme, batch, learner: who, periodStart: '2026-07-01', amount: 500, unit: 'megabytes', currency: null, phone: '+306900000000', status });
  issue(l1, 'sent');
  issue(l2, 'cancelled');
  issue(l3, 'delivered');
  em.create(DataUsage, { learner: l1, day: '2026-07-05', bytes: 300_000_000 });
  em.create(DataUsage, { learner: l3, day: '2026-07-10', bytes: 100_000_000 });
  em.create(DataUsage, { learner: b1, day: '2026-07-10', bytes: 900_000_000 });
  await em.flush();
  // What the background refresher does every few minutes in a running school.
  await refreshRollups(em, { wait: true });

  return { coordinatorA, coordinatorB, teacherA, admin, l1, l2, l3, l4, l5, l6, b1, programmeA, programmeB, site, a1, a2, cb, L, S };
}

/** The cells of a report table on the page, by its id: rows of text as the reader sees them. */
export function tableCells(html: string, id: string): string[][] {
  const section = new RegExp(`<section class="report-table" id="table-${id}">([\\s\\S]*?)</section>`).exec(html);
  if (!section) throw new Error(`no table ${id}`);
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(section[1]!)![1]!;
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => decode(c[1]!.trim())));
}

/** The headline figures of a report page, by their label. */
export function figures(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<div><dt>([\s\S]*?)<\/dt><dd>([\s\S]*?)<\/dd><\/div>/g)) out[decode(m[1]!)] = decode(m[2]!);
  return out;
}

const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&#x3D;/g, '=').replace(/[\u2068\u2069]/g, '');

/** Parses a CSV answer (without its byte-order mark) into rows of cells. */
export function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const s = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quoted) {
      if (ch === '"' && s[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}
