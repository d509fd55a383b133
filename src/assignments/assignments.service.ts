/**
 * Setting work: creating and changing assignments, the choices their form offers, extensions, and
 * the numbers a teacher watches (submitted, graded, missing, late).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { User } from '../accounts/index.ts';
import { Unit, coursesOfCohort, unitsOfCourse } from '../courses/index.ts';
import type { Actor } from '../platform/actor.ts';
import { InvalidInput, NotFound } from '../platform/errors.ts';
import { Cohort, Enrolment, cohortsOfTeacher } from '../programmes/index.ts';
import { Assignment, DueExtension, Grade, Submission, type SubmissionForm } from './assignment.entity.ts';
import { assignmentsManagedBy, assignmentsVisibleTo } from './assignments.policy.ts';
import type { AssignmentInput } from './assignments.schemas.ts';
import { renderInstructions } from './instructions.ts';
import { parseRubric, rubricMaxPoints } from './rubric.ts';
import { utcToZonedInput, zonedToUtc } from './zoned-time.ts';

/** Cohorts an actor may set work for: a teacher's own; every cohort for an admin. */
export async function cohortChoices(em: EntityManager, actor: Actor): Promise<{ id: number; name: string; programme: string }[]> {
  const cohorts =
    actor.role === 'admin' ? await em.find(Cohort, {}, { populate: ['programme'], orderBy: { name: 'asc' } }) : actor.role === 'teacher' ? await cohortsOfTeacher(em, actor.id) : [];
  return cohorts.map((c) => ({ id: c.id, name: c.name, programme: c.programme.getEntity().name }));
}

/** Units of the courses offered to some cohorts, labelled "Course — Unit". */
export async function unitChoices(em: EntityManager, cohortIds: number[]): Promise<{ id: number; label: string }[]> {
  const seen = new Set<number>();
  const out: { id: number; label: string }[] = [];
  for (const cohortId of cohortIds) {
    for (const course of await coursesOfCohort(em, cohortId)) {
      if (seen.has(course.id)) continue;
      seen.add(course.id);
      for (const unit of await unitsOfCourse(em, course.id)) out.push({ id: unit.id, label: `${course.title} — ${unit.title}` });
    }
  }
  return out;
}

function instant(local: string | undefined, timeZone: string, field: string): Date | undefined {
  if (local === undefined) return undefined;
  const at = zonedToUtc(local, timeZone);
  if (!at) throw new InvalidInput({ [field]: { key: 'assignments:form.dateFormat' } });
  return at;
}

/** Everything the form says, checked against the actor's cohorts and turned into stored values. */
async function resolveInput(em: EntityManager, actor: Actor, input: AssignmentInput) {
  const allowed = new Set((await cohortChoices(em, actor)).map((c) => c.id));
  if (input.cohortIds.some((id) => !allowed.has(id))) throw new InvalidInput({ cohortIds: { key: 'assignments:form.chooseCohort' } });
  const opensAt = instant(input.opensAt, actor.timeZone, 'opensAt')!;
  const dueAt = instant(input.dueAt, actor.timeZone, 'dueAt')!;
  const cutoffAt = instant(input.cutoffAt, actor.timeZone, 'cutoffAt') ?? null;
  if (dueAt < opensAt) throw new InvalidInput({ dueAt: { key: 'assignments:form.dueBeforeOpen' } });
  if (cutoffAt && cutoffAt < dueAt) throw new InvalidInput({ cutoffAt: { key: 'assignments:form.cutoffBeforeDue' } });
  let unit: Unit | null = null;
  if (input.unitId !== undefined) {
    const units = await unitChoices(em, input.cohortIds);
    if (!units.some((u) => u.id === input.unitId)) throw new InvalidInput({ unitId: { key: 'assignments:form.chooseUnit' } });
    unit = em.getReference(Unit, input.unitId);
  }
  const rubric = input.grading === 'rubric' ? parseRubric(input.rubric) : null;
  const forms = [...new Set(input.forms)] as SubmissionForm[];
  return {
    title: input.title,
    instructions: input.instructions,
    instructionsHtml: renderInstructions(input.instructions),
    opensAt,
    dueAt,
    cutoffAt,
    unit,
    forms,
    maxFiles: forms.some((f) => f !== 'text') ? input.maxFiles : 1,
    maxFileMb: input.maxFileMb,
    rubric,
    maxPoints: rubric ? rubricMaxPoints(rubric) : input.maxPoints!,
    resubmissionAllowed: input.resubmissionAllowed,
    cohorts: input.cohortIds.map((id) => em.getReference(Cohort, id)),
  };
}

export async function createAssignment(em: EntityManager, actor: Actor, input: AssignmentInput): Promise<Assignment> {
  const { cohorts, ...values } = await resolveInput(em, actor, input);
  const assignment = em.create(Assignment, { ...values, createdBy: em.getReference(User, actor.id) });
  for (const c of cohorts) assignment.cohorts.add(c);
  await em.flush();
  return assignment;
}

export async function updateAssignment(em: EntityManager, actor: Actor, id: number, input: AssignmentInput): Promise<Assignment> {
  const assignment = await managedAssignment(em, actor, id);
  const { cohorts, ...values } = await resolveInput(em, actor, input);
  // Grades already given were counted against the old points and rubric; changing them would rewrite history.
  const graded = await em.count(Grade, { submission: { assignment: assignment.id } });
  if (graded > 0 && (values.maxPoints !== assignment.maxPoints || JSON.stringify(values.rubric) !== JSON.stringify(assignment.rubric))) {
    throw new InvalidInput({ [values.rubric ? 'rubric' : 'maxPoints']: { key: 'assignments:form.gradingLocked' } });
  }
  Object.assign(assignment, {
    title: values.title,
    instructions: values.instructions,
    instructionsHtml: values.instructionsHtml,
    opensAt: values.opensAt,
    dueAt: values.dueAt,
    cutoffAt: values.cutoffAt,
    unit: values.unit,
    forms: values.forms,
    maxFiles: values.maxFiles,
    maxFileMb: values.maxFileMb,
    rubric: values.rubric,
    maxPoints: values.maxPoints,
    resubmissionAllowed: values.resubmissionAllowed,
  });
  assignment.cohorts.set(cohorts);
  await em.flush();
  return assignment;
}

export async function managedAssignment(em: EntityManager, actor: Actor, id: number): Promise<Assignment> {
  const assignment = await em.findOne(Assignment, { $and: [{ id }, assignmentsManagedBy(actor)] }, { populate: ['cohorts', 'cohorts.programme', 'unit'] });
  if (!assignment) throw new NotFound();
  return assignment;
}

export async function visibleAssignment(em: EntityManager, actor: Actor, id: number, now = new Date()): Promise<Assignment> {
  const assignment = await em.findOne(Assignment, { $and: [{ id }, assignmentsVisibleTo(actor, now)] }, { populate: ['cohorts', 'unit', 'unit.course', 'createdBy'] });
  if (!assignment) throw new NotFound();
  return assignment;
}

/** The form's values for an existing assignment, in the editing teacher's time zone. */
export function formValues(a: Assignment, timeZone: string, rubricText: string) {
  return {
    title: a.title,
    instructions: a.instructions,
    cohortIds: a.cohorts.getItems().map((c) => c.id),
    unitId: a.unit?.id ?? '',
    opensAt: utcToZonedInput(a.opensAt, timeZone),
    dueAt: utcToZonedInput(a.dueAt, timeZone),
    cutoffAt: a.cutoffAt ? utcToZonedInput(a.cutoffAt, timeZone) : '',
    forms: a.forms,
    maxFiles: a.maxFiles,
    maxFileMb: a.maxFileMb,
    grading: a.rubric ? 'rubric' : 'points',
    maxPoints: a.rubric ? '' : a.maxPoints,
    rubric: rubricText,
    resubmissionAllowed: a.resubmissionAllowed,
  };
}

/** Cohorts of an assignment that the actor looks after: a teacher's own, everything for others. */
export async function cohortsInView(em: EntityManager, actor: Actor, assignment: Assignment): Promise<number[]> {
  const ids = assignment.cohorts.getItems().map((c) => c.id);
  if (actor.role !== 'teacher') return ids;
  const mine = new Set((await cohortsOfTeacher(em, actor.id)).map((c) => c.id));
  return ids.filter((id) => mine.has(id));
}

export interface LearnerRow {
  learnerId: number;
  displayName: string;
  username: string;
  cohortId: number;
}

/** Active enrolments of some cohorts, one query for all. */
async function activeEnrolments(em: EntityManager, cohortIds: number[]): Promise<LearnerRow[]> {
  if (!cohortIds.length) return [];
  const enrolments = await em.find(Enrolment, { cohort: { $in: cohortIds }, status: 'active' }, { populate: ['learner'], orderBy: { cohort: 'asc' } });
  return enrolments.map((e) => {
    const l = e.learner.getEntity();
    return { learnerId: l.id, displayName: l.displayName, username: l.username, cohortId: e.cohort.id };
  });
}

/** Each learner once (a learner in two of the cohorts counts in the first), by name. */
function distinctLearners(rows: LearnerRow[], cohortIds: number[]): LearnerRow[] {
  const wanted = new Set(cohortIds);
  const out = new Map<number, LearnerRow>();
  for (const r of rows) if (wanted.has(r.cohortId) && !out.has(r.learnerId)) out.set(r.learnerId, r);
  return [...out.values()].sort((a, b) => a.displayName.localeCompare(b.displayName));
}

/** Active learners of some cohorts, each once. */
export async function learnersOf(em: EntityManager, cohortIds: number[]): Promise<LearnerRow[]> {
  return distinctLearners(await activeEnrolments(em, cohortIds), cohortIds);
}

export async function extensionsOf(em: EntityManager, assignmentIds: number[]): Promise<Map<string, Date>> {
  const out = new Map<string, Date>();
  if (!assignmentIds.length) return out;
  for (const e of await em.find(DueExtension, { assignment: { $in: assignmentIds } })) out.set(`${e.assignment.id}:${e.learner.id}`, e.dueAt);
  return out;
}

/** The due date and cut-off that apply to one learner, extension included. */
export function deadlinesFor(a: Pick<Assignment, 'dueAt' | 'cutoffAt'>, extension: Date | undefined) {
  const dueAt = extension ?? a.dueAt;
  // An extension beyond the cut-off carries the cut-off with it: the learner gets the time granted.
  const cutoffAt = a.cutoffAt && extension && extension > a.cutoffAt ? extension : a.cutoffAt;
  return { dueAt, cutoffAt };
}

export interface AssignmentCounts {
  learners: number;
  submitted: number;
  graded: number;
  missing: number;
  late: number;
  toGrade: number;
}

/**
 * Counts for the learners of the given cohorts: submitted (at least one version), graded (the
 * latest version), missing (nothing handed in and the learner's due date has passed), late (the
 * latest version after its due date).
 */
export async function countsFor(em: EntityManager, assignments: Assignment[], cohortIdsOf: (a: Assignment) => number[], now = new Date()): Promise<Map<number, AssignmentCounts>> {
  const out = new Map<number, AssignmentCounts>();
  for (const a of assignments) out.set(a.id, { learners: 0, submitted: 0, graded: 0, missing: 0, late: 0, toGrade: 0 });
  const scope = assignments.flatMap((a) => [...new Set(cohortIdsOf(a))].map((cohortId) => [a.id, cohortId]));
  if (!scope.length) return out;
  // One statement for every assignment: each active learner of the cohorts in view once, beside
  // their handed-in work, its grade, the lateness of its latest version and their extension. The
  // work is looked up per learner through its index (a few hundred learners) rather than every
  // submission of the school hashed, which the planner otherwise prefers.
  const rows = (await em.execute(
    `WITH scope (assignment_id, cohort_id) AS (VALUES ${scope.map(() => '(?::int, ?::int)').join(',')}),
     learners AS (
       SELECT DISTINCT sc.assignment_id, en.learner_id
       FROM scope sc JOIN enrolments en ON en.cohort_id = sc.cohort_id AND en.status = 'active'
     )
     SELECT l.assignment_id,
            count(*)::int AS learners,
            count(s.id)::int AS submitted,
            count(*) FILTER (WHERE g.version_number = s.submitted_version)::int AS graded,
            count(*) FILTER (WHERE s.id IS NULL AND coalesce(e.due_at, a.due_at) < ?)::int AS missing,
            count(*) FILTER (WHERE v.late_seconds > 0)::int AS late
     FROM learners l
     JOIN assignments a ON a.id = l.assignment_id
     LEFT JOIN LATERAL (
       SELECT s.id, s.submitted_version FROM submissions s
       WHERE s.assignment_id = l.assignment_id AND s.learner_id = l.learner_id AND s.submitted_version > 0 LIMIT 1
     ) s ON true
     LEFT JOIN grades g ON g.submission_id = s.id
     LEFT JOIN submission_versions v ON v.submission_id = s.id AND v.number = s.submitted_version
     LEFT JOIN assignment_extensions e ON e.assignment_id = l.assignment_id AND e.learner_id = l.learner_id
     GROUP BY l.assignment_id`,
    [...scope.flat(), now],
  )) as { assignment_id: number; learners: number; submitted: number; graded: number; missing: number; late: number }[];
  for (const r of rows) {
    out.set(r.assignment_id, { learners: r.learners, submitted: r.submitted, graded: r.graded, missing: r.missing, late: r.late, toGrade: r.submitted - r.graded });
  }
  return out;
}

/** The actor's assignments, soonest due last-first as a teacher reads a list: newest due first. */
export async function assignmentsOfTeacher(em: EntityManager, actor: Actor, now = new Date()) {
  const assignments = await em.find(Assignment, assignmentsVisibleTo(actor, now), { populate: ['cohorts'], orderBy: { dueAt: 'desc', id: 'desc' } });
  const mine = actor.role === 'teacher' ? new Set((await cohortsOfTeacher(em, actor.id)).map((c) => c.id)) : undefined;
  const cohortIdsOf = (a: Assignment) => a.cohorts.getItems().map((c) => c.id).filter((id) => !mine || mine.has(id));
  const counts = await countsFor(em, assignments, cohortIdsOf, now);
  return assignments.map((a) => ({ assignment: a, counts: counts.get(a.id)! }));
}

export async function grantExtension(em: EntityManager, actor: Actor, assignmentId: number, learnerId: number, local: string) {
  const assignment = await visibleAssignment(em, actor, assignmentId);
  if (actor.role !== 'teacher' && actor.role !== 'admin') throw new NotFound();
  const learners = await learnersOf(em, await cohortsInView(em, actor, assignment));
  if (!learners.some((l) => l.learnerId === learnerId)) throw new InvalidInput({ learnerId: { key: 'validation:choose' } });
  const dueAt = instant(local, actor.timeZone, 'dueAt')!;
  if (dueAt <= assignment.dueAt) throw new InvalidInput({ dueAt: { key: 'assignments:extension.notLater' } });
  // One extension per learner and assignment: granting again moves it.
  await em.execute(
    `INSERT INTO assignment_extensions (assignment_id, learner_id, due_at, granted_by_id, granted_at) VALUES (?, ?, ?, ?, now())
     ON CONFLICT (assignment_id, learner_id) DO UPDATE SET due_at = excluded.due_at, granted_by_id = excluded.granted_by_id, granted_at = now()`,
    [assignment.id, learnerId, dueAt, actor.id],
  );
}

export async function removeExtension(em: EntityManager, actor: Actor, assignmentId: number, learnerId: number) {
  const assignment = await visibleAssignment(em, actor, assignmentId);
  if (actor.role !== 'teacher' && actor.role !== 'admin') throw new NotFound();
  const learners = await learnersOf(em, await cohortsInView(em, actor, assignment));
  if (!learners.some((l) => l.learnerId === learnerId)) throw new NotFound();
  await em.nativeDelete(DueExtension, { assignment: assignment.id, learner: learnerId });
}

/** Per learner of the actor's cohorts: their submission state, for the assignment's teacher page. */
export async function learnerStates(em: EntityManager, actor: Actor, assignment: Assignment, now = new Date()) {
  const learners = await learnersOf(em, await cohortsInView(em, actor, assignment));
  const submissions = await em.find(Submission, { assignment: assignment.id, learner: { $in: learners.map((l) => l.learnerId) } });
  const bySubmission = new Map(submissions.map((s) => [s.learner.id, s]));
  const grades = submissions.length ? await em.find(Grade, { submission: { $in: submissions.map((s) => s.id) } }) : [];
  const gradeOf = new Map(grades.map((g) => [g.submission.id, g]));
  const extensions = await extensionsOf(em, [assignment.id]);
  const lateness = submissions.length
    ? ((await em.execute(
        `SELECT s.id, v.late_seconds FROM submissions s JOIN submission_versions v ON v.submission_id = s.id AND v.number = s.submitted_version WHERE s.id IN (${submissions.map(() => '?').join(',')})`,
        submissions.map((s) => s.id),
      )) as { id: number; late_seconds: number }[])
    : [];
  const lateOf = new Map(lateness.map((r) => [r.id, r.late_seconds]));
  return learners.map((l) => {
    const s = bySubmission.get(l.learnerId);
    const g = s ? gradeOf.get(s.id) : undefined;
    const extension = extensions.get(`${assignment.id}:${l.learnerId}`);
    const { dueAt } = deadlinesFor(assignment, extension);
    const handedIn = !!s && s.submittedVersion > 0;
    return {
      ...l,
      submissionId: handedIn ? s!.id : null,
      version: s?.submittedVersion ?? 0,
      status: s?.status ?? null,
      handedIn,
      submittedAt: s?.lastSubmittedAt ?? null,
      lateSeconds: s ? (lateOf.get(s.id) ?? 0) : 0,
      missing: !handedIn && dueAt < now,
      graded: !!g && !!s && g.versionNumber === s.submittedVersion,
      score: g?.score ?? null,
      released: !!g?.releasedAt,
      extendedTo: extension ?? null,
    };
  });
}
