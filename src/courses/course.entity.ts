import { defineEntity, p } from '@mikro-orm/core';
import { User } from '../accounts/index.ts';
import { Cohort } from '../programmes/index.ts';

/** `scorm` lessons are not written in the course files: they are uploaded packages (see src/scorm). */
export const LESSON_TYPES = ['text', 'audio', 'video', 'quiz', 'scorm'] as const;
export type LessonType = (typeof LESSON_TYPES)[number];

/** An image resized at import into small WebP variants; `url` is the smallest, `srcset` lists them all. */
export interface ImageVariants {
  url: string;
  srcset: string;
  width: number;
  height: number;
  /** Bytes of the largest variant: what a phone with a dense screen may fetch. */
  bytes: number;
}

/** One piece of lesson media as stored at import: served from /media/<content hash>.<ext>. */
export interface LessonMedia {
  kind: 'audio' | 'video' | 'image';
  url: string;
  mime: string;
  bytes: number;
  title: string | null;
  transcript: string | null;
  /** Video poster (WebP), fetched only when the learner opens the video. */
  poster: ImageVariants | null;
  /** Images only. */
  image: ImageVariants | null;
}

export interface QuizOption {
  id: string;
  text: string;
  correct: boolean;
}

export interface QuizQuestion {
  id: string;
  type: 'single' | 'multiple' | 'fill';
  prompt: string;
  options: QuizOption[];
  /** Accepted answers of a fill-in question. */
  answers: string[];
  explanation: string | null;
}

/** Correct answers included: never handed to a view as they are. */
export interface Quiz {
  passScore: number;
  questions: QuizQuestion[];
}

const CourseSchema = defineEntity({
  name: 'Course',
  tableName: 'courses',
  properties: {
    id: p.integer().primary().autoincrement(),
    /** From course.yaml; never changes, progress hangs on it. */
    slug: p.string().length(80).unique(),
    title: p.string().length(200),
    language: p.string().length(8),
    instructionLanguages: p.json<string[]>(),
    level: p.string().length(20),
    subject: p.string().length(20),
    summary: p.text(),
    studyHours: p.integer(),
    license: p.string().length(80),
    image: p.json<ImageVariants>().nullable(),
    units: () => p.oneToMany(Unit).mappedBy('course'),
    offerings: () => p.oneToMany(CohortCourse).mappedBy('course'),
    /** Hash of the imported folder: an unchanged course is skipped on re-import. */
    sourceHash: p.string().length(64),
    importedAt: p.datetime(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class Course extends CourseSchema.class {}
CourseSchema.setClass(Course);

const UnitSchema = defineEntity({
  name: 'Unit',
  tableName: 'course_units',
  uniques: [{ properties: ['course', 'slug'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    course: () => p.manyToOne(Course).ref(),
    slug: p.string().length(80),
    title: p.string().length(200),
    position: p.integer(),
  },
});
export class Unit extends UnitSchema.class {}
UnitSchema.setClass(Unit);

const LessonSchema = defineEntity({
  name: 'Lesson',
  tableName: 'lessons',
  uniques: [{ properties: ['course', 'slug'] }],
  checks: [{ name: 'lessons_minutes_check', expression: 'minutes > 0' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    course: () => p.manyToOne(Course).ref(),
    /** Null once the lesson left the course files (retired): its progress is kept. */
    unit: () => p.manyToOne(Unit).nullable().ref(),
    slug: p.string().length(80),
    title: p.string().length(200),
    type: p.enum(LESSON_TYPES),
    minutes: p.integer(),
    /** Order within the course, across units. */
    position: p.integer(),
    /** Markdown rendered and sanitised at import. */
    bodyHtml: p.text(),
    /** The same with every image folded behind a tap, for learners who save data. */
    bodyHtmlDataSaver: p.text(),
    media: p.json<LessonMedia[]>(),
    quiz: p.json<Quiz>().nullable(),
    retired: p.boolean().default(false),
  },
});
export class Lesson extends LessonSchema.class {}
LessonSchema.setClass(Lesson);

/** A course offered to a cohort: its learners may open it, its teachers follow their progress. */
const CohortCourseSchema = defineEntity({
  name: 'CohortCourse',
  tableName: 'cohort_courses',
  uniques: [{ properties: ['cohort', 'course'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    cohort: () => p.manyToOne(Cohort).ref().deleteRule('cascade'),
    course: () => p.manyToOne(Course).ref().index().deleteRule('cascade'),
    offeredBy: () => p.manyToOne(User).nullable().ref().deleteRule('set null'),
    offeredAt: p.datetime().onCreate(() => new Date()),
  },
});
export class CohortCourse extends CohortCourseSchema.class {}
CohortCourseSchema.setClass(CohortCourse);

/** One learner on one lesson; unique, so a doubled "done" can never make a second record. */
const LessonProgressSchema = defineEntity({
  name: 'LessonProgress',
  tableName: 'lesson_progress',
  uniques: [{ properties: ['learner', 'lesson'] }],
  indexes: [{ properties: ['course', 'learner'] }, { properties: ['completedAt'] }],
  checks: [
    { name: 'lesson_progress_best_score_check', expression: 'best_score >= 0 and best_score <= 100' },
    { name: 'lesson_progress_counts_check', expression: 'attempts >= 0 and seconds_spent >= 0' },
  ],
  properties: {
    id: p.integer().primary().autoincrement(),
    learner: () => p.manyToOne(User).ref(),
    lesson: () => p.manyToOne(Lesson).ref(),
    course: () => p.manyToOne(Course).ref(),
    startedAt: p.datetime(),
    completedAt: p.datetime().nullable(),
    bestScore: p.integer().nullable(),
    attempts: p.integer().default(0),
    secondsSpent: p.integer().default(0),
    /** Start of the open page visit, credited (capped) when the learner moves on. */
    visitStartedAt: p.datetime().nullable(),
    lastVisitedAt: p.datetime(),
  },
});
export class LessonProgress extends LessonProgressSchema.class {}
LessonProgressSchema.setClass(LessonProgress);

export interface QuestionResult {
  id: string;
  correct: boolean;
  /** What the learner chose or typed. */
  given: string[];
}

const QuizAttemptSchema = defineEntity({
  name: 'QuizAttempt',
  tableName: 'quiz_attempts',
  uniques: [{ properties: ['learner', 'idempotencyKey'] }],
  indexes: [{ properties: ['learner', 'lesson'] }],
  checks: [{ name: 'quiz_attempts_score_check', expression: 'score >= 0 and score <= 100' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    learner: () => p.manyToOne(User).ref(),
    lesson: () => p.manyToOne(Lesson).ref(),
    /** Made by the learner's form: a replayed offline answer or a double tap is one attempt. */
    idempotencyKey: p.string().length(64),
    score: p.integer(),
    passed: p.boolean(),
    results: p.json<QuestionResult[]>(),
    submittedAt: p.datetime().onCreate(() => new Date()),
  },
});
export class QuizAttempt extends QuizAttemptSchema.class {}
QuizAttemptSchema.setClass(QuizAttempt);

const CourseCompletionSchema = defineEntity({
  name: 'CourseCompletion',
  tableName: 'course_completions',
  uniques: [{ properties: ['learner', 'course'] }],
  properties: {
    id: p.integer().primary().autoincrement(),
    learner: () => p.manyToOne(User).ref(),
    course: () => p.manyToOne(Course).ref().index(),
    completedAt: p.datetime(),
  },
});
export class CourseCompletion extends CourseCompletionSchema.class {}
CourseCompletionSchema.setClass(CourseCompletion);

/** Seconds of study per learner, lesson and UTC day; rows are incremented by upsert. */
const StudyTimeSchema = defineEntity({
  name: 'StudyTime',
  tableName: 'study_time',
  uniques: [{ properties: ['learner', 'lesson', 'day'] }],
  indexes: [{ properties: ['day'] }],
  checks: [{ name: 'study_time_seconds_check', expression: 'seconds >= 0' }],
  properties: {
    id: p.integer().primary().autoincrement(),
    learner: () => p.manyToOne(User).ref(),
    lesson: () => p.manyToOne(Lesson).ref(),
    course: () => p.manyToOne(Course).ref(),
    day: p.date(),
    seconds: p.integer().default(0),
  },
});
export class StudyTime extends StudyTimeSchema.class {}
StudyTimeSchema.setClass(StudyTime);

export {
  CourseSchema,
  UnitSchema,
  LessonSchema,
  CohortCourseSchema,
  LessonProgressSchema,
  QuizAttemptSchema,
  CourseCompletionSchema,
  StudyTimeSchema,
};
