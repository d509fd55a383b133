import { Migration } from '@mikro-orm/migrations';

/** SCORM packages, their items, learners' attempts, sittings and commits; lessons may now be of type "scorm". */
export class Migration20261123100214 extends Migration {

  override name = 'Migration20261123100214';

  override up(): void | Promise<void> {
    this.addSql(`create table "scorm_packages" ("id" serial primary key, "lesson_id" int not null, "content_id" varchar(64) not null, "version" text not null, "schema_version" varchar(60) not null, "title" varchar(200) not null, "zip_bytes" int not null, "unpacked_bytes" bigint not null, "file_count" int not null, "imported_by_id" int null, "imported_at" timestamptz not null);`);
    this.addSql(`alter table "scorm_packages" add constraint "scorm_packages_lesson_id_unique" unique ("lesson_id");`);
    this.addSql(`create table "scorm_items" ("id" serial primary key, "package_id" int not null, "identifier" varchar(255) not null, "position" int not null, "depth" int not null, "title" varchar(200) not null, "visible" boolean not null, "resource_type" text null, "launch_url" text null, "mastery_score" double precision null, "max_time_allowed" varchar(40) null, "time_limit_action" varchar(40) null, "data_from_lms" text null, "completion_threshold" double precision null, "scaled_passing_score" double precision null, "prerequisites" text null);`);
    this.addSql(`alter table "scorm_items" add constraint "scorm_items_package_id_identifier_unique" unique ("package_id", "identifier");`);
    this.addSql(`create table "scorm_attempts" ("id" serial primary key, "item_id" int not null, "learner_id" int not null, "number" int not null, "cmi" jsonb not null, "lesson_status" varchar(20) null, "completion_status" text not null default 'not attempted', "success_status" text not null default 'unknown', "score_scaled" double precision null, "score_raw" double precision null, "score_min" double precision null, "score_max" double precision null, "total_seconds" double precision not null default 0, "last_exit" varchar(20) null, "ended" boolean not null default false, "last_session_id" int null, "last_seq" int not null default 0, "started_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`create index "scorm_attempts_learner_id_item_id_index" on "scorm_attempts" ("learner_id", "item_id");`);
    this.addSql(`alter table "scorm_attempts" add constraint "scorm_attempts_item_id_learner_id_number_unique" unique ("item_id", "learner_id", "number");`);
    this.addSql(`create table "scorm_sessions" ("id" serial primary key, "attempt_id" int not null, "started_at" timestamptz not null, "last_seq" int not null default 0, "seconds" double precision not null default 0, "terminated" boolean not null default false, "last_commit_at" timestamptz null);`);
    this.addSql(`create index "scorm_sessions_attempt_id_index" on "scorm_sessions" ("attempt_id");`);
    this.addSql(`create table "scorm_commits" ("id" bigserial primary key, "session_id" int not null, "seq" int not null, "final" boolean not null, "applied" boolean not null, "bytes" int not null, "received_at" timestamptz not null);`);
    this.addSql(`alter table "scorm_commits" add constraint "scorm_commits_session_id_seq_unique" unique ("session_id", "seq");`);
    this.addSql(`alter table "lessons" drop constraint "lessons_type_check";`);
    this.addSql(`alter table "lessons" add constraint "lessons_type_check" check ("type" in ('text', 'audio', 'video', 'quiz', 'scorm'));`);
    this.addSql(`alter table "scorm_packages" add constraint "scorm_packages_lesson_id_foreign" foreign key ("lesson_id") references "lessons" ("id") on delete cascade;`);
    this.addSql(`alter table "scorm_packages" add constraint "scorm_packages_imported_by_id_foreign" foreign key ("imported_by_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "scorm_packages" add constraint "scorm_packages_version_check" check ("version" in ('1.2', '2004'));`);
    this.addSql(`alter table "scorm_items" add constraint "scorm_items_package_id_foreign" foreign key ("package_id") references "scorm_packages" ("id") on delete cascade;`);
    this.addSql(`alter table "scorm_items" add constraint "scorm_items_resource_type_check" check ("resource_type" in ('sco', 'asset'));`);
    this.addSql(`alter table "scorm_attempts" add constraint "scorm_attempts_item_id_foreign" foreign key ("item_id") references "scorm_items" ("id") on delete cascade;`);
    this.addSql(`alter table "scorm_attempts" add constraint "scorm_attempts_learner_id_foreign" foreign key ("learner_id") references "users" ("id") on delete cascade;`);
    this.addSql(`alter table "scorm_attempts" add constraint "scorm_attempts_counts_check" check ((number >= 1) AND (last_seq >= 0));`);
    this.addSql(`alter table "scorm_attempts" add constraint "scorm_attempts_completion_status_check" check ("completion_status" in ('not attempted', 'incomplete', 'completed', 'unknown'));`);
    this.addSql(`alter table "scorm_attempts" add constraint "scorm_attempts_success_status_check" check ("success_status" in ('unknown', 'passed', 'failed'));`);
    this.addSql(`alter table "scorm_sessions" add constraint "scorm_sessions_attempt_id_foreign" foreign key ("attempt_id") references "scorm_attempts" ("id") on delete cascade;`);
    this.addSql(`alter table "scorm_commits" add constraint "scorm_commits_session_id_foreign" foreign key ("session_id") references "scorm_sessions" ("id") on delete cascade;`);
    this.addSql(`alter table "scorm_commits" add constraint "scorm_commits_seq_check" check (seq > 0);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "scorm_items" drop constraint "scorm_items_package_id_foreign";`);
    this.addSql(`alter table "scorm_attempts" drop constraint "scorm_attempts_item_id_foreign";`);
    this.addSql(`alter table "scorm_sessions" drop constraint "scorm_sessions_attempt_id_foreign";`);
    this.addSql(`alter table "scorm_commits" drop constraint "scorm_commits_session_id_foreign";`);
    this.addSql(`drop table if exists "scorm_packages" cascade;`);
    this.addSql(`drop table if exists "scorm_items" cascade;`);
    this.addSql(`drop table if exists "scorm_attempts" cascade;`);
    this.addSql(`drop table if exists "scorm_sessions" cascade;`);
    this.addSql(`drop table if exists "scorm_commits" cascade;`);
    this.addSql(`alter table "lessons" drop constraint "lessons_type_check";`);
    this.addSql(`alter table "lessons" add constraint "lessons_type_check" check ("type" in ('text', 'audio', 'video', 'quiz'));`);
  }

}
