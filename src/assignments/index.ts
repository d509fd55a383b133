/**
 * assignments — work a teacher sets and learners hand in from a phone.
 *
 * Words: an *assignment* is set for one or more *cohorts* (optionally as part of a course *unit*),
 * opens, is *due*, and may have a *cut-off* after which nothing is accepted; an *extension* moves
 * the due date for one learner. A learner's *submission* has a *draft* and numbered *versions*
 * handed in (several only when *resubmission* is allowed or the teacher *returned* it); a version
 * handed in after its due date is *late*. A *grade* is a score or a choice of *rubric* levels
 * (criteria × levels with points) plus *feedback*; it is a draft until *released*, and every
 * change is kept as a *grade change*. The *comment bank* holds a teacher's reusable feedback; a
 * *feedback notice* tells a learner that feedback was released. The *queue* is what waits for a
 * teacher; the *gradebook* is a cohort's learners × assignments.
 */
export {
  Assignment,
  DueExtension,
  Submission,
  SubmissionVersion,
  SubmissionFile,
  Grade,
  GradeChange,
  FeedbackComment,
  FeedbackNotice,
  AssignmentSchema,
  DueExtensionSchema,
  SubmissionSchema,
  SubmissionVersionSchema,
  SubmissionFileSchema,
  GradeSchema,
  GradeChangeSchema,
  FeedbackCommentSchema,
  FeedbackNoticeSchema,
} from './assignment.entity.ts';
export type { Rubric, RubricCriterion, RubricLevel } from './assignment.entity.ts';
export { assignmentsRoutes } from './assignments.routes.ts';
export { assignmentsHomeSection } from './assignments.home.ts';
export { assignmentCapabilities, assignmentsVisibleTo, submissionsVisibleTo } from './assignments.policy.ts';
export { submissionsBy, assignmentForQuestion } from './shared.service.ts';
export { seedDemoAssignment } from './demo.ts';
