/**
 * scorm — courseware brought in as SCORM 1.2 and 2004 packages, played in isolation.
 *
 * Words: a *package* is an uploaded zip, stored once by the sha256 of its bytes and played as one
 * lesson of a course; its *manifest* (imsmanifest.xml) lists *items* — *SCOs* that talk to the
 * runtime, *assets* that do not, and headings grouping them (the table of contents). A learner's
 * *attempt* on a SCO holds the learner data the SCO wrote (CMI: status, score, location,
 * suspend data, interactions); each *session* is one sitting, whose session time adds up to the
 * attempt's total; a *commit* is the runtime sending the data, numbered so a repeat or a late
 * arrival never overwrites newer data. The *content origin* is the second host name that serves
 * package files and the *player* (scorm-again), so package scripts never share the school's
 * origin or cookies; the player proves who it plays for with a *launch token*.
 */
export {
  ScormPackage,
  ScormItem,
  ScormAttempt,
  ScormSession,
  ScormCommit,
  ScormPackageSchema,
  ScormItemSchema,
  ScormAttemptSchema,
  ScormSessionSchema,
  ScormCommitSchema,
} from './scorm.entity.ts';
export { scormRoutes, COMMIT_PATH } from './scorm.routes.ts';
export { createContentOrigin, type ByteMeter } from './content-origin.ts';
export { tokenSigner, type TokenSigner } from './launch-token.ts';
export { scormCapabilities } from './scorm.policy.ts';
export { addDemoScormLesson } from './demo.ts';
