/**
 * courses — what a learner studies and how far they got.
 *
 * Words: a *course* (imported from a folder under courses/) has *units*, each an ordered list of
 * *lessons* (text, audio, video or quiz); a course is *offered* to a cohort (CohortCourse), and
 * only learners of an offered cohort may open it; *progress* is one record per learner and
 * lesson (started, completed, best score, attempts, time spent); a *quiz attempt* is one graded
 * submission; *study time* is seconds per learner, lesson and UTC day; a *course completion* is
 * recorded once every lesson is done. A *retired* lesson left the course files but keeps its
 * progress.
 */
export {
  Course,
  Unit,
  Lesson,
  CohortCourse,
  LessonProgress,
  QuizAttempt,
  CourseCompletion,
  StudyTime,
  CourseSchema,
  UnitSchema,
  LessonSchema,
  CohortCourseSchema,
  LessonProgressSchema,
  QuizAttemptSchema,
  CourseCompletionSchema,
  StudyTimeSchema,
  LESSON_TYPES,
  type LessonType,
} from './course.entity.ts';
export {
  lessonForLearner,
  lessonForStaff,
  coursesOfCohort,
  unitsOfCourse,
  lessonCounts,
  lessonUrl,
  courseUrl,
  createScormLesson,
  type LessonContext,
  type CourseSummary,
  type UnitOutline,
} from './courses.service.ts';
export { lessonsCompletedBy, studySecondsBy, quizScoresFor, completeLesson, recordQuizResult, type QuizScore } from './progress.service.ts';
export { courseCapabilities, coursesVisibleTo, coursesFollowedBy } from './courses.policy.ts';
export { coursesRoutes, type CoursesDeps } from './courses.routes.ts';
export { coursesHomeSection } from './home-section.ts';
export { importCourses, importShippedCourses, formatImportReport, noCoursesYet, COURSES_ROOT, type CourseImportResult } from './course-import.ts';
export { offlineRoutes } from './offline.routes.ts';
