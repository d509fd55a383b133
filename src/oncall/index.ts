/**
 * oncall — a teacher within reach when a learner is stuck.
 *
 * Words: a learner *asks* from a lesson or assignment (its *context*), which opens a *thread*
 * with the teachers of one cohort; *messages* (text, a *photo* or a *voice note*) go back and
 * forth until someone marks it *resolved*. The teacher's *inbox* lists open threads, the longest
 * *waiting* first. A *shift* is a weekly window when a teacher is *on call* for a cohort; the
 * shifts together are the *rota*. An *announcement* goes from a teacher to a whole cohort. A
 * *notice* tells one person something is new (in-app; other *channels* such as web push can be
 * added). *Response times*: time from a thread's opening to its *first answer*.
 */
export { Thread, Message, Attachment, ThreadSchema, MessageSchema, AttachmentSchema, CONTEXT_KINDS, type ContextKind } from './thread.entity.ts';
export { Announcement, AnnouncementSchema } from './announcement.entity.ts';
export { Shift, ShiftSchema } from './shift.entity.ts';
export { Notice, NoticeSchema } from './notice.entity.ts';
export { oncallRoutes, type OncallDeps } from './oncall.routes.ts';
export { contextLookups } from './contexts.ts';
export { askFormFor, askKeys, type AskForm } from './ask-form.ts';
export { inAppNotices, unreadNoticeCount, type NoticeChannel, type NoticeEvent } from './notices.ts';
export { oncallHomeSection } from './home-section.ts';
export { oncallCapabilities } from './oncall.policy.ts';
