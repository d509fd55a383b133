import { Migration } from '@mikro-orm/migrations';

/**
 * Assignments: assignments and their cohorts, due-date extensions, submissions with their
 * numbered versions and files, grades with their append-only history, each teacher's comment
 * bank, and feedback notices (at most one unread per learner and assignment).
 */
export class Migration20261123100352 extends Migration {

  override name = 'Migration20261123100352';

  override up(): void | Promise<void> {
    this.addSql(`create table "feedback_comments" ("id" serial primary key, "teacher_id" int not null, "text" text not null, "created_at" timestamptz not null);`);
    this.addSql(`create index "feedback_comments_teacher_id_index" on "feedback_comments" ("teacher_id");`);

    this.addSql(`create table "assignments" ("id" serial primary key, "title" varchar(200) not null, "instructions" text not null, "instructions_html" text not null, "created_by_id" int not null, "unit_id" int null, "opens_at" timestamptz not null, "due_at" timestamptz not null, "cutoff_at" timestamptz null, "forms" jsonb not null, "max_files" int not null default 3, "max_file_mb" int not null default 10, "max_points" int not null, "rubric" jsonb null, "resubmission_allowed" boolean not null default false, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`create index "assignments_due_at_index" on "assignments" ("due_at");`);

    this.addSql(`create table "submissions" ("id" serial primary key, "assignment_id" int not null, "learner_id" int not null, "cohort_id" int not null, "status" text not null default 'draft', "draft_text" text not null default '', "submitted_version" int not null default 0, "last_submitted_at" timestamptz null, "revision" int not null default 0, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`create index "submissions_learner_id_index" on "submissions" ("learner_id");`);
    this.addSql(`create index "submissions_cohort_id_index" on "submissions" ("cohort_id");`);
    this.addSql(`alter table "submissions" add constraint "submissions_assignment_id_learner_id_unique" unique ("assignment_id", "learner_id");`);

    this.addSql(`create table "submission_versions" ("id" serial primary key, "submission_id" int not null, "number" int not null, "text" text not null, "submitted_at" timestamptz not null, "due_at" timestamptz not null, "late_seconds" int not null default 0);`);
    this.addSql(`alter table "submission_versions" add constraint "submission_versions_submission_id_number_unique" unique ("submission_id", "number");`);

    this.addSql(`create table "submission_files" ("id" serial primary key, "submission_id" int not null, "version_id" int null, "storage_id" varchar(32) not null, "name" varchar(120) not null, "kind" text not null, "mime" varchar(40) not null, "bytes" int not null, "original_bytes" int not null, "width" int null, "height" int null, "position" int not null default 0, "created_at" timestamptz not null);`);
    this.addSql(`create index "submission_files_storage_id_index" on "submission_files" ("storage_id");`);

    this.addSql(`create table "grade_changes" ("id" serial primary key, "submission_id" int not null, "action" text not null, "changed_by_id" int not null, "changed_at" timestamptz not null, "old_value" jsonb null, "new_value" jsonb null);`);
    this.addSql(`create index "grade_changes_submission_id_index" on "grade_changes" ("submission_id");`);

    this.addSql(`create table "grades" ("id" serial primary key, "submission_id" int not null, "version_number" int not null, "score" int not null, "rubric_levels" jsonb null, "feedback" text not null default '', "graded_by_id" int not null, "graded_at" timestamptz not null, "released_at" timestamptz null, "revision" int not null default 1);`);
    this.addSql(`alter table "grades" add constraint "grades_submission_id_unique" unique ("submission_id");`);

    this.addSql(`create table "feedback_notices" ("id" serial primary key, "learner_id" int not null, "assignment_id" int not null, "created_at" timestamptz not null, "read_at" timestamptz null);`);
    this.addSql(`create index "feedback_notices_learner_id_index" on "feedback_notices" ("learner_id");`);
    this.addSql(`create unique index "feedback_notices_unread_unique" on "feedback_notices" ("learner_id", "assignment_id") where read_at is null;`);

    this.addSql(`create table "assignment_extensions" ("id" serial primary key, "assignment_id" int not null, "learner_id" int not null, "due_at" timestamptz not null, "granted_by_id" int not null, "granted_at" timestamptz not null);`);
    this.addSql(`create index "assignment_extensions_learner_id_index" on "assignment_extensions" ("learner_id");`);
    this.addSql(`alter table "assignment_extensions" add constraint "assignment_extensions_assignment_id_learner_id_unique" unique ("assignment_id", "learner_id");`);

    this.addSql(`create table "assignment_cohorts" ("assignment_id" int not null, "cohort_id" int not null, primary key ("assignment_id", "cohort_id"));`);

    this.addSql(`alter table "feedback_comments" add constraint "feedback_comments_teacher_id_foreign" foreign key ("teacher_id") references "users" ("id") on delete cascade;`);

    this.addSql(`alter table "assignments" add constraint "assignments_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id");`);
    this.addSql(`alter table "assignments" add constraint "assignments_unit_id_foreign" foreign key ("unit_id") references "course_units" ("id") on delete set null;`);
    this.addSql(`alter table "assignments" add constraint "assignments_dates_check" check (due_at >= opens_at and (cutoff_at is null or cutoff_at >= due_at));`);
    this.addSql(`alter table "assignments" add constraint "assignments_limits_check" check (max_points > 0 and max_files between 0 and 10 and max_file_mb between 1 and 50);`);

    this.addSql(`alter table "submissions" add constraint "submissions_assignment_id_foreign" foreign key ("assignment_id") references "assignments" ("id") on delete cascade;`);
    this.addSql(`alter table "submissions" add constraint "submissions_learner_id_foreign" foreign key ("learner_id") references "users" ("id");`);
    this.addSql(`alter table "submissions" add constraint "submissions_cohort_id_foreign" foreign key ("cohort_id") references "cohorts" ("id");`);
    this.addSql(`alter table "submissions" add constraint "submissions_version_check" check (submitted_version >= 0);`);
    this.addSql(`alter table "submissions" add constraint "submissions_status_check" check ("status" in ('draft', 'submitted', 'returned'));`);

    this.addSql(`alter table "submission_versions" add constraint "submission_versions_submission_id_foreign" foreign key ("submission_id") references "submissions" ("id") on delete cascade;`);
    this.addSql(`alter table "submission_versions" add constraint "submission_versions_number_check" check (number >= 1 and late_seconds >= 0);`);

    this.addSql(`alter table "submission_files" add constraint "submission_files_submission_id_foreign" foreign key ("submission_id") references "submissions" ("id") on delete cascade;`);
    this.addSql(`alter table "submission_files" add constraint "submission_files_version_id_foreign" foreign key ("version_id") references "submission_versions" ("id") on delete cascade;`);
    this.addSql(`alter table "submission_files" add constraint "submission_files_kind_check" check ("kind" in ('image', 'pdf', 'audio'));`);

    this.addSql(`alter table "grade_changes" add constraint "grade_changes_submission_id_foreign" foreign key ("submission_id") references "submissions" ("id") on delete cascade;`);
    this.addSql(`alter table "grade_changes" add constraint "grade_changes_changed_by_id_foreign" foreign key ("changed_by_id") references "users" ("id");`);
    this.addSql(`alter table "grade_changes" add constraint "grade_changes_action_check" check ("action" in ('save', 'release', 'return'));`);

    this.addSql(`alter table "grades" add constraint "grades_submission_id_foreign" foreign key ("submission_id") references "submissions" ("id") on delete cascade;`);
    this.addSql(`alter table "grades" add constraint "grades_graded_by_id_foreign" foreign key ("graded_by_id") references "users" ("id");`);
    this.addSql(`alter table "grades" add constraint "grades_score_check" check (score >= 0 and version_number >= 1);`);

    this.addSql(`alter table "feedback_notices" add constraint "feedback_notices_learner_id_foreign" foreign key ("learner_id") references "users" ("id") on delete cascade;`);
    this.addSql(`alter table "feedback_notices" add constraint "feedback_notices_assignment_id_foreign" foreign key ("assignment_id") references "assignments" ("id") on delete cascade;`);

    this.addSql(`alter table "assignment_extensions" add constraint "assignment_extensions_assignment_id_foreign" foreign key ("assignment_id") references "assignments" ("id") on delete cascade;`);
    this.addSql(`alter table "assignment_extensions" add constraint "assignment_extensions_learner_id_foreign" foreign key ("learner_id") references "users" ("id");`);
    this.addSql(`alter table "assignment_extensions" add constraint "assignment_extensions_granted_by_id_foreign" foreign key ("granted_by_id") references "users" ("id");`);

    this.addSql(`alter table "assignment_cohorts" add constraint "assignment_cohorts_assignment_id_foreign" foreign key ("assignment_id") references "assignments" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "assignment_cohorts" add constraint "assignment_cohorts_cohort_id_foreign" foreign key ("cohort_id") references "cohorts" ("id") on update cascade on delete cascade;`);
  }

  override down(): void | Promise<void> {
    for (const table of ['assignment_cohorts', 'assignment_extensions', 'feedback_notices', 'feedback_comments', 'grade_changes', 'grades', 'submission_files', 'submission_versions', 'submissions', 'assignments']) {
      this.addSql(`drop table if exists "${table}" cascade;`);
    }
  }

}
