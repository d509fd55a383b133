import { Migration } from '@mikro-orm/migrations';

export class Migration20261123094356 extends Migration {

  override name = 'Migration20261123094356';

  override up(): void | Promise<void> {
    this.addSql(`create table "oncall_threads" ("id" serial primary key, "cohort_id" int not null, "learner_id" int not null, "context_kind" text not null, "context_id" int not null, "context_title" varchar(200) not null, "context_course" varchar(200) null, "context_url" varchar(300) not null, "excerpt" varchar(160) not null, "status" text not null default 'open', "opened_at" timestamptz not null, "waiting_since" timestamptz null, "first_answered_at" timestamptz null, "first_answered_by_id" int null, "last_message_at" timestamptz not null, "resolved_at" timestamptz null, "resolved_by_id" int null);`);
    this.addSql(`create index "oncall_threads_first_answered_by_id_index" on "oncall_threads" ("first_answered_by_id");`);
    this.addSql(`create index "oncall_threads_cohort_id_status_waiting_since_index" on "oncall_threads" ("cohort_id", "status", "waiting_since");`);
    this.addSql(`create index "oncall_threads_learner_id_last_message_at_index" on "oncall_threads" ("learner_id", "last_message_at");`);
    this.addSql(`create index "oncall_threads_cohort_id_opened_at_index" on "oncall_threads" ("cohort_id", "opened_at");`);

    this.addSql(`create table "oncall_shifts" ("id" serial primary key, "cohort_id" int not null, "teacher_id" int not null, "weekday" smallint not null, "start_minute" smallint not null, "end_minute" smallint not null, "time_zone" varchar(64) not null, "created_at" timestamptz not null);`);
    this.addSql(`create index "oncall_shifts_teacher_id_index" on "oncall_shifts" ("teacher_id");`);
    this.addSql(`alter table "oncall_shifts" add constraint "oncall_shifts_cohort_id_teacher_id_weekday_start_minute_unique" unique ("cohort_id", "teacher_id", "weekday", "start_minute");`);

    this.addSql(`create table "oncall_messages" ("id" serial primary key, "thread_id" int not null, "author_id" int not null, "body" text null, "created_at" timestamptz not null);`);
    this.addSql(`create index "oncall_messages_thread_id_index" on "oncall_messages" ("thread_id");`);

    this.addSql(`create table "oncall_attachments" ("id" serial primary key, "message_id" int not null, "kind" text not null, "storage_id" varchar(32) not null, "mime" varchar(64) not null, "name" varchar(120) not null, "bytes" int not null);`);
    this.addSql(`create index "oncall_attachments_message_id_index" on "oncall_attachments" ("message_id");`);
    this.addSql(`alter table "oncall_attachments" add constraint "oncall_attachments_storage_id_unique" unique ("storage_id");`);

    this.addSql(`create table "oncall_announcements" ("id" serial primary key, "cohort_id" int not null, "author_id" int not null, "body" text not null, "created_at" timestamptz not null);`);
    this.addSql(`create index "oncall_announcements_cohort_id_created_at_index" on "oncall_announcements" ("cohort_id", "created_at");`);

    this.addSql(`create table "oncall_notices" ("id" serial primary key, "user_id" int not null, "kind" text not null, "thread_id" int null, "announcement_id" int null, "actor_id" int null, "created_at" timestamptz not null, "read_at" timestamptz null);`);
    this.addSql(`create index "oncall_notices_unread_index" on "oncall_notices" ("user_id") where read_at is null;`);
    this.addSql(`create index "oncall_notices_user_id_created_at_index" on "oncall_notices" ("user_id", "created_at");`);
    this.addSql(`create unique index "oncall_notices_unread_thread_unique" on "oncall_notices" ("user_id", "thread_id") where read_at is null and thread_id is not null;`);

    this.addSql(`alter table "oncall_threads" add constraint "oncall_threads_cohort_id_foreign" foreign key ("cohort_id") references "cohorts" ("id");`);
    this.addSql(`alter table "oncall_threads" add constraint "oncall_threads_learner_id_foreign" foreign key ("learner_id") references "users" ("id");`);
    this.addSql(`alter table "oncall_threads" add constraint "oncall_threads_first_answered_by_id_foreign" foreign key ("first_answered_by_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "oncall_threads" add constraint "oncall_threads_resolved_by_id_foreign" foreign key ("resolved_by_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "oncall_threads" add constraint "oncall_threads_context_kind_check" check ("context_kind" in ('lesson', 'assignment'));`);
    this.addSql(`alter table "oncall_threads" add constraint "oncall_threads_status_check" check ("status" in ('open', 'resolved'));`);

    this.addSql(`alter table "oncall_shifts" add constraint "oncall_shifts_cohort_id_foreign" foreign key ("cohort_id") references "cohorts" ("id");`);
    this.addSql(`alter table "oncall_shifts" add constraint "oncall_shifts_teacher_id_foreign" foreign key ("teacher_id") references "users" ("id");`);
    this.addSql(`alter table "oncall_shifts" add constraint "oncall_shifts_weekday_check" check ((weekday >= 1) AND (weekday <= 7));`);
    this.addSql(`alter table "oncall_shifts" add constraint "oncall_shifts_window_check" check ((start_minute >= 0) AND (end_minute <= 1440) AND (start_minute < end_minute));`);

    this.addSql(`alter table "oncall_messages" add constraint "oncall_messages_thread_id_foreign" foreign key ("thread_id") references "oncall_threads" ("id");`);
    this.addSql(`alter table "oncall_messages" add constraint "oncall_messages_author_id_foreign" foreign key ("author_id") references "users" ("id");`);

    this.addSql(`alter table "oncall_attachments" add constraint "oncall_attachments_message_id_foreign" foreign key ("message_id") references "oncall_messages" ("id");`);
    this.addSql(`alter table "oncall_attachments" add constraint "oncall_attachments_kind_check" check ("kind" in ('photo', 'voice'));`);

    this.addSql(`alter table "oncall_announcements" add constraint "oncall_announcements_cohort_id_foreign" foreign key ("cohort_id") references "cohorts" ("id");`);
    this.addSql(`alter table "oncall_announcements" add constraint "oncall_announcements_author_id_foreign" foreign key ("author_id") references "users" ("id");`);

    this.addSql(`alter table "oncall_notices" add constraint "oncall_notices_user_id_foreign" foreign key ("user_id") references "users" ("id");`);
    this.addSql(`alter table "oncall_notices" add constraint "oncall_notices_thread_id_foreign" foreign key ("thread_id") references "oncall_threads" ("id") on delete cascade;`);
    this.addSql(`alter table "oncall_notices" add constraint "oncall_notices_announcement_id_foreign" foreign key ("announcement_id") references "oncall_announcements" ("id") on delete cascade;`);
    this.addSql(`alter table "oncall_notices" add constraint "oncall_notices_actor_id_foreign" foreign key ("actor_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "oncall_notices" add constraint "oncall_notices_kind_check" check ("kind" in ('question', 'message', 'resolved', 'announcement'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "oncall_messages" drop constraint "oncall_messages_thread_id_foreign";`);
    this.addSql(`alter table "oncall_notices" drop constraint "oncall_notices_thread_id_foreign";`);
    this.addSql(`alter table "oncall_attachments" drop constraint "oncall_attachments_message_id_foreign";`);
    this.addSql(`alter table "oncall_notices" drop constraint "oncall_notices_announcement_id_foreign";`);

    this.addSql(`drop table if exists "oncall_threads" cascade;`);
    this.addSql(`drop table if exists "oncall_shifts" cascade;`);
    this.addSql(`drop table if exists "oncall_messages" cascade;`);
    this.addSql(`drop table if exists "oncall_attachments" cascade;`);
    this.addSql(`drop table if exists "oncall_announcements" cascade;`);
    this.addSql(`drop table if exists "oncall_notices" cascade;`);
  }

}
