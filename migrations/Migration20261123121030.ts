import { Migration } from '@mikro-orm/migrations';

export class Migration20261123121030 extends Migration {

  override name = 'Migration20261123121030';

  override up(): void | Promise<void> {
    this.addSql(`create table "report_course_progress" ("learner_id" int not null, "course_id" int not null, "started_at" timestamptz not null, primary key ("learner_id", "course_id"));`);

    this.addSql(`create table "report_rollup_state" ("id" serial primary key, "last_progress_id" int not null, "last_study_id" int not null, "refreshed_at" timestamptz not null, "lessons_fingerprint" varchar(32) not null);`);

    this.addSql(`create table "report_study_months" ("learner_id" int not null, "course_id" int not null, "month" date not null, "seconds" bigint not null, primary key ("learner_id", "course_id", "month"));`);
    this.addSql(`create index "report_study_months_month_learner_id_index" on "report_study_months" ("month", "learner_id");`);

    this.addSql(`create table "report_unit_progress" ("learner_id" int not null, "unit_id" int not null, "course_id" int not null, "lessons_done" int not null, "started_at" timestamptz not null, "last_completed_at" timestamptz null, primary key ("learner_id", "unit_id"));`);
    this.addSql(`create index "report_unit_progress_course_id_index" on "report_unit_progress" ("course_id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "report_course_progress" cascade;`);
    this.addSql(`drop table if exists "report_rollup_state" cascade;`);
    this.addSql(`drop table if exists "report_study_months" cascade;`);
    this.addSql(`drop table if exists "report_unit_progress" cascade;`);
  }

}
