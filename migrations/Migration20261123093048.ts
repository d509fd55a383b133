import { Migration } from '@mikro-orm/migrations';

export class Migration20261123093048 extends Migration {

  override name = 'Migration20261123093048';

  override up(): void | Promise<void> {
    this.addSql(`create table "programmes" ("id" serial primary key, "name" varchar(160) not null, "description" text null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "programmes" add constraint "programmes_name_unique" unique ("name");`);

    this.addSql(`create table "sites" ("id" serial primary key, "programme_id" int not null, "name" varchar(160) not null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "sites" add constraint "sites_programme_id_name_unique" unique ("programme_id", "name");`);

    this.addSql(`create table "cohorts" ("id" serial primary key, "programme_id" int not null, "site_id" int null, "name" varchar(160) not null, "enrolment_code" varchar(12) not null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "cohorts" add constraint "cohorts_enrolment_code_unique" unique ("enrolment_code");`);
    this.addSql(`alter table "cohorts" add constraint "cohorts_programme_id_name_unique" unique ("programme_id", "name");`);

    this.addSql(`create table "users" ("id" serial primary key, "username" varchar(64) not null, "phone" varchar(16) null, "password_hash" varchar(255) not null, "must_change_password" boolean not null default false, "role" text not null default 'learner', "display_name" varchar(120) not null, "language" varchar(8) null, "time_zone" varchar(64) not null default 'UTC', "data_saver" boolean not null default false, "sex" text null, "birth_year" int null, "nationality" varchar(2) null, "legal_status" text null, "disability" boolean null, "active" boolean not null default true, "failed_logins" int not null default 0, "locked_until" timestamptz null, "created_by_id" int null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`alter table "users" add constraint "users_username_unique" unique ("username");`);
    this.addSql(`alter table "users" add constraint "users_phone_unique" unique ("phone");`);
    this.addSql(`alter table "users" add constraint "users_role_check" check ("role" in ('learner', 'teacher', 'coordinator', 'admin'));`);
    this.addSql(`alter table "users" add constraint "users_sex_check" check ("sex" in ('female', 'male', 'other'));`);
    this.addSql(`alter table "users" add constraint "users_legal_status_check" check ("legal_status" in ('refugee', 'asylum_seeker', 'international_protection', 'migrant', 'host_community', 'other'));`);

    this.addSql(`create table "programme_coordinators" ("programme_id" int not null, "user_id" int not null, primary key ("programme_id", "user_id"));`);

    this.addSql(`create table "enrolments" ("id" serial primary key, "cohort_id" int not null, "learner_id" int not null, "status" text not null default 'active', "enrolled_at" timestamptz not null, "withdrawn_at" timestamptz null);`);
    this.addSql(`create index "enrolments_learner_id_index" on "enrolments" ("learner_id");`);
    this.addSql(`alter table "enrolments" add constraint "enrolments_cohort_id_learner_id_unique" unique ("cohort_id", "learner_id");`);
    this.addSql(`alter table "enrolments" add constraint "enrolments_status_check" check ("status" in ('active', 'withdrawn', 'completed'));`);

    this.addSql(`create table "cohort_teachers" ("cohort_id" int not null, "user_id" int not null, primary key ("cohort_id", "user_id"));`);

    this.addSql(`alter table "sites" add constraint "sites_programme_id_foreign" foreign key ("programme_id") references "programmes" ("id");`);

    this.addSql(`alter table "cohorts" add constraint "cohorts_programme_id_foreign" foreign key ("programme_id") references "programmes" ("id");`);
    this.addSql(`alter table "cohorts" add constraint "cohorts_site_id_foreign" foreign key ("site_id") references "sites" ("id") on delete set null;`);

    this.addSql(`alter table "users" add constraint "users_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id") on delete set null;`);

    this.addSql(`alter table "programme_coordinators" add constraint "programme_coordinators_programme_id_foreign" foreign key ("programme_id") references "programmes" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "programme_coordinators" add constraint "programme_coordinators_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "enrolments" add constraint "enrolments_cohort_id_foreign" foreign key ("cohort_id") references "cohorts" ("id");`);
    this.addSql(`alter table "enrolments" add constraint "enrolments_learner_id_foreign" foreign key ("learner_id") references "users" ("id");`);

    this.addSql(`alter table "cohort_teachers" add constraint "cohort_teachers_cohort_id_foreign" foreign key ("cohort_id") references "cohorts" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "cohort_teachers" add constraint "cohort_teachers_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

}
