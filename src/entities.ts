/** Every entity of every slice, handed to the ORM in one place. */
import { UserSchema } from './accounts/index.ts';
import { AssignmentSchema, DueExtensionSchema, FeedbackCommentSchema, FeedbackNoticeSchema, GradeChangeSchema, GradeSchema, SubmissionFileSchema, SubmissionSchema, SubmissionVersionSchema } from './assignments/index.ts';
import { AllowanceBatchSchema, AllowanceIssueSchema, AllowanceLedgerEntrySchema, AllowanceSchemeSchema, AllowanceSchemeVersionSchema, DataUsageSchema } from './allowances/index.ts';
import { CohortSchema, EnrolmentSchema, ProgrammeSchema, SiteSchema } from './programmes/index.ts';
import { CohortCourseSchema, CourseCompletionSchema, CourseSchema, LessonProgressSchema, LessonSchema, QuizAttemptSchema, StudyTimeSchema, UnitSchema } from './courses/index.ts';
import { AnnouncementSchema, AttachmentSchema, MessageSchema, NoticeSchema, ShiftSchema, ThreadSchema } from './oncall/index.ts';
import { CertificateEventSchema, CertificateRuleSchema, CertificateSchema, CertificateSigningKeySchema } from './certificates/index.ts';
import { ReportCourseProgressSchema, ReportDataMonthSchema, ReportLearnerProgressSchema, ReportIssueMonthSchema, ReportIssueMonthTotalSchema, ReportIssueTotalsSchema, ReportQuizBestSchema, ReportQuizMonthSchema, ReportQuizTotalsSchema, ReportSubmissionFactSchema, ReportRollupStateSchema, ReportStudyMonthSchema, ReportStudyTotalsSchema, ReportUnitProgressSchema } from './reports/index.ts';
import { ScormAttemptSchema, ScormCommitSchema, ScormItemSchema, ScormPackageSchema, ScormSessionSchema } from './scorm/index.ts';

export const entities = [UserSchema, ProgrammeSchema, SiteSchema, CohortSchema, EnrolmentSchema,
  CourseSchema, UnitSchema, LessonSchema, CohortCourseSchema, LessonProgressSchema, QuizAttemptSchema, CourseCompletionSchema, StudyTimeSchema,
  AllowanceSchemeSchema, AllowanceSchemeVersionSchema, AllowanceBatchSchema, AllowanceIssueSchema, AllowanceLedgerEntrySchema, DataUsageSchema,
  AssignmentSchema, DueExtensionSchema, SubmissionSchema, SubmissionVersionSchema, SubmissionFileSchema, GradeSchema, GradeChangeSchema, FeedbackCommentSchema, FeedbackNoticeSchema,
  ThreadSchema, MessageSchema, AttachmentSchema, AnnouncementSchema, ShiftSchema, NoticeSchema,
  ScormPackageSchema, ScormItemSchema, ScormAttemptSchema, ScormSessionSchema, ScormCommitSchema,
  CertificateRuleSchema, CertificateSchema, CertificateEventSchema, CertificateSigningKeySchema,
  ReportUnitProgressSchema, ReportCourseProgressSchema, ReportStudyMonthSchema, ReportStudyTotalsSchema, ReportLearnerProgressSchema, ReportDataMonthSchema, ReportQuizBestSchema, ReportQuizTotalsSchema, ReportQuizMonthSchema, ReportIssueMonthSchema, ReportIssueTotalsSchema, ReportIssueMonthTotalSchema, ReportSubmissionFactSchema, ReportRollupStateSchema];
