import { Migration } from '@mikro-orm/migrations';

export class Migration20261123093744 extends Migration {

  override name = 'Migration20261123093744';

  override up(): void | Promise<void> {
    this.addSql(`create table "courses" ("id" serial primary key, "slug" varchar(80) not null, "title" varchar(200) not null, "language" varchar(8) not null, "instruction_languages" jsonb not null, "level" varchar(20) not null, "subject" varchar(20) not null, "summary" text not null, "study_hours" int not null, "license" varchar(80) not null, "image" jsonb null, "source_hash" varchar(64) not null, "imported_at" timestamptz not null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "courses" add constraint "courses_slug_unique" unique ("slug");`);

    this.addSql(`create table "course_units" ("id" serial primary key, "course_id" int not null, "slug" varchar(80) not null, "title" varchar(200) not null, "position" int not null);`);
    this.addSql(`alter table "course_units" add constraint "course_units_course_id_slug_unique" unique ("course_id", "slug");`);

    this.addSql(`create table "lessons" ("id" serial primary key, "course_id" int not null, "unit_id" int null, "slug" varchar(80) not null, "title" varchar(200) not null, "type" text not null, "minutes" int not null, "position" int not null, "body_html" text not null, "body_html_data_saver" text not null, "media" jsonb not null, "quiz" jsonb null, "retired" boolean not null default false);`);
    this.addSql(`alter table "lessons" add constraint "lessons_course_id_slug_unique" unique ("course_id", "slug");`);

    this.addSql(`create table "study_time" ("id" serial primary key, "learner_id" int not null, "lesson_id" int not null, "course_id" int not null, "day" date not null, "seconds" int not null default 0);`);
    this.addSql(`create index "study_time_day_index" on "study_time" ("day");`);
    this.addSql(`alter table "study_time" add constraint "study_time_learner_id_lesson_id_day_unique" unique ("learner_id", "lesson_id", "day");`);

    this.addSql(`create table "quiz_attempts" ("id" serial primary key, "learner_id" int not null, "lesson_id" int not null, "idempotency_key" varchar(64) not null, "score" int not null, "passed" boolean not null, "results" jsonb not null, "submitted_at" timestamptz not null);`);
    this.addSql(`create index "quiz_attempts_learner_id_lesson_id_index" on "quiz_attempts" ("learner_id", "lesson_id");`);
    this.addSql(`alter table "quiz_attempts" add constraint "quiz_attempts_learner_id_idempotency_key_unique" unique ("learner_id", "idempotency_key");`);

    this.addSql(`create table "lesson_progress" ("id" serial primary key, "learner_id" int not null, "lesson_id" int not null, "course_id" int not null, "started_at" timestamptz not null, "completed_at" timestamptz null, "best_score" int null, "attempts" int not null default 0, "seconds_spent" int not null default 0, "visit_started_at" timestamptz null, "last_visited_at" timestamptz not null);`);
    this.addSql(`create index "lesson_progress_course_id_learner_id_index" on "lesson_progress" ("course_id", "learner_id");`);
    this.addSql(`create index "lesson_progress_completed_at_index" on "lesson_progress" ("completed_at");`);
    this.addSql(`alter table "lesson_progress" add constraint "lesson_progress_learner_id_lesson_id_unique" unique ("learner_id", "lesson_id");`);

    this.addSql(`create table "course_completions" ("id" serial primary key, "learner_id" int not null, "course_id" int not null, "completed_at" timestamptz not null);`);
    this.addSql(`create index "course_completions_course_id_index" on "course_completions" ("course_id");`);
    this.addSql(`alter table "course_completions" add constraint "course_completions_learner_id_course_id_unique" unique ("learner_id", "course_id");`);

    this.addSql(`create table "cohort_courses" ("id" serial primary key, "cohort_id" int not null, "course_id" int not null, "offered_by_id" int null, "offered_at" timestamptz not null);`);
    this.addSql(`create index "cohort_courses_course_id_index" on "cohort_courses" ("course_id");`);
    this.addSql(`alter table "cohort_courses" add constraint "cohort_courses_cohort_id_course_id_unique" unique ("cohort_id", "course_id");`);

    this.addSql(`alter table "course_units" add constraint "course_units_course_id_foreign" foreign key ("course_id") references "courses" ("id");`);

    this.addSql(`alter table "lessons" add constraint "lessons_course_id_foreign" foreign key ("course_id") references "courses" ("id");`);
    this.addSql(`alter table "lessons" add constraint "lessons_unit_id_foreign" foreign key ("unit_id") references "course_units" ("id") on delete set null;`);
    this.addSql(`alter table "lessons" add constraint "lessons_type_check" check ("type" in ('text', 'audio', 'video', 'quiz'));`);

    this.addSql(`alter table "study_time" add constraint "study_time_learner_id_foreign" foreign key ("learner_id") references "users" ("id");`);
    this.addSql(`alter table "study_time" add constraint "study_time_lesson_id_foreign" foreign key ("lesson_id") references "lessons" ("id");`);
    this.addSql(`alter table "study_time" add constraint "study_time_course_id_foreign" foreign key ("course_id") references "courses" ("id");`);

    this.addSql(`alter table "quiz_attempts" add constraint "quiz_attempts_learner_id_foreign" foreign key ("learner_id") references "users" ("id");`);
    this.addSql(`alter table "quiz_attempts" add constraint "quiz_attempts_lesson_id_foreign" foreign key ("lesson_id") references "lessons" ("id");`);

    this.addSql(`alter table "lesson_progress" add constraint "lesson_progress_learner_id_foreign" foreign key ("learner_id") references "users" ("id");`);
    this.addSql(`alter table "lesson_progress" add constraint "lesson_progress_lesson_id_foreign" foreign key ("lesson_id") references "lessons" ("id");`);
    this.addSql(`alter table "lesson_progress" add constraint "lesson_progress_course_id_foreign" foreign key ("course_id") references "courses" ("id");`);

    this.addSql(`alter table "course_completions" add constraint "course_completions_learner_id_foreign" foreign key ("learner_id") references "users" ("id");`);
    this.addSql(`alter table "course_completions" add constraint "course_completions_course_id_foreign" foreign key ("course_id") references "courses" ("id");`);

    this.addSql(`alter table "cohort_courses" add constraint "cohort_courses_cohort_id_foreign" foreign key ("cohort_id") references "cohorts" ("id") on delete cascade;`);
    this.addSql(`alter table "cohort_courses" add constraint "cohort_courses_course_id_foreign" foreign key ("course_id") references "courses" ("id") on delete cascade;`);
    this.addSql(`alter table "cohort_courses" add constraint "cohort_courses_offered_by_id_foreign" foreign key ("offered_by_id") references "users" ("id") on delete set null;`);

    // Facts the ORM cannot express: scores are percentages, time and counts never negative.
    this.addSql(`alter table "quiz_attempts" add constraint "quiz_attempts_score_check" check ("score" between 0 and 100);`);
    this.addSql(`alter table "lesson_progress" add constraint "lesson_progress_best_score_check" check ("best_score" between 0 and 100);`);
    this.addSql(`alter table "lesson_progress" add constraint "lesson_progress_counts_check" check ("attempts" >= 0 and "seconds_spent" >= 0);`);
    this.addSql(`alter table "study_time" add constraint "study_time_seconds_check" check ("seconds" >= 0);`);
    this.addSql(`alter table "lessons" add constraint "lessons_minutes_check" check ("minutes" > 0);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "course_units" drop constraint "course_units_course_id_foreign";`);
    this.addSql(`alter table "lessons" drop constraint "lessons_course_id_foreign";`);
    this.addSql(`alter table "study_time" drop constraint "study_time_course_id_foreign";`);
    this.addSql(`alter table "lesson_progress" drop constraint "lesson_progress_course_id_foreign";`);
    this.addSql(`alter table "course_completions" drop constraint "course_completions_course_id_foreign";`);
    this.addSql(`alter table "cohort_courses" drop constraint "cohort_courses_course_id_foreign";`);
    this.addSql(`alter table "lessons" drop constraint "lessons_unit_id_foreign";`);
    this.addSql(`alter table "study_time" drop constraint "study_time_lesson_id_foreign";`);
    this.addSql(`alter table "quiz_attempts" drop constraint "quiz_attempts_lesson_id_foreign";`);
    this.addSql(`alter table "lesson_progress" drop constraint "lesson_progress_lesson_id_foreign";`);

    this.addSql(`drop table if exists "courses" cascade;`);
    this.addSql(`drop table if exists "course_units" cascade;`);
    this.addSql(`drop table if exists "lessons" cascade;`);
    this.addSql(`drop table if exists "study_time" cascade;`);
    this.addSql(`drop table if exists "quiz_attempts" cascade;`);
    this.addSql(`drop table if exists "lesson_progress" cascade;`);
    this.addSql(`drop table if exists "course_completions" cascade;`);
    this.addSql(`drop table if exists "cohort_courses" cascade;`);
  }

}
