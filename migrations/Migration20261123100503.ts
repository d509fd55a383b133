import { Migration } from '@mikro-orm/migrations';

/**
 * Certificates: per-course rules, the certificates themselves (one valid per learner, course and
 * edition: a partial unique index), their append-only audit trail, and every public key that
 * ever signed one.
 */
export class Migration20261123100503 extends Migration {

  override name = 'Migration20261123100503';

  override up(): void | Promise<void> {
    this.addSql(`create table "certificate_signing_keys" ("id" serial primary key, "kid" varchar(64) not null, "x" varchar(64) not null, "first_used_at" timestamptz not null);`);
    this.addSql(`alter table "certificate_signing_keys" add constraint "certificate_signing_keys_kid_unique" unique ("kid");`);
    this.addSql(`create table "certificate_rules" ("id" serial primary key, "course_id" int not null, "min_quiz_score" int null, "min_assignment_score" int null, "edition" int not null default 1, "updated_by_id" int null, "updated_at" timestamptz not null);`);
    this.addSql(`alter table "certificate_rules" add constraint "certificate_rules_course_id_unique" unique ("course_id");`);
    this.addSql(`create table "certificates" ("id" serial primary key, "code" varchar(12) not null, "learner_id" int not null, "course_id" int not null, "edition" int not null, "programme_id" int not null, "printed_name" varchar(120) not null, "course_title" varchar(200) not null, "level" varchar(20) not null, "study_hours" int not null, "programme_name" varchar(160) not null, "language" varchar(8) not null, "credential" jsonb not null, "issued_at" timestamptz not null, "issued_by_id" int null, "revoked_at" timestamptz null, "rename_count" int not null default 0);`);
    this.addSql(`alter table "certificates" add constraint "certificates_code_unique" unique ("code");`);
    this.addSql(`create index "certificates_learner_id_course_id_index" on "certificates" ("learner_id", "course_id");`);
    this.addSql(`create index "certificates_programme_id_issued_at_index" on "certificates" ("programme_id", "issued_at");`);
    this.addSql(`create unique index "certificates_valid_per_edition_unique" on "certificates" ("learner_id", "course_id", "edition") where revoked_at is null;`);
    this.addSql(`create table "certificate_events" ("id" serial primary key, "certificate_id" int not null, "action" text not null, "actor_id" int null, "reason" text null, "detail" jsonb null, "at" timestamptz not null);`);
    this.addSql(`create index "certificate_events_certificate_id_index" on "certificate_events" ("certificate_id");`);
    this.addSql(`alter table "certificate_rules" add constraint "certificate_rules_course_id_foreign" foreign key ("course_id") references "courses" ("id");`);
    this.addSql(`alter table "certificate_rules" add constraint "certificate_rules_updated_by_id_foreign" foreign key ("updated_by_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "certificates" add constraint "certificates_learner_id_foreign" foreign key ("learner_id") references "users" ("id");`);
    this.addSql(`alter table "certificates" add constraint "certificates_course_id_foreign" foreign key ("course_id") references "courses" ("id");`);
    this.addSql(`alter table "certificates" add constraint "certificates_programme_id_foreign" foreign key ("programme_id") references "programmes" ("id");`);
    this.addSql(`alter table "certificates" add constraint "certificates_issued_by_id_foreign" foreign key ("issued_by_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "certificate_events" add constraint "certificate_events_certificate_id_foreign" foreign key ("certificate_id") references "certificates" ("id");`);
    this.addSql(`alter table "certificate_events" add constraint "certificate_events_actor_id_foreign" foreign key ("actor_id") references "users" ("id") on delete set null;`);
    this.addSql(`alter table "certificate_events" add constraint "certificate_events_action_check" check ("action" in ('issued', 'revoked', 'renamed'));`);
    this.addSql(`create or replace function "certificate_events_certificate_events_no_change_fn"() returns trigger as \$\$ begin raise exception 'certificate_events is append-only: % is refused', tg_op using errcode = 'restrict_violation'; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "certificate_events_no_change" BEFORE UPDATE OR DELETE on "certificate_events" for each ROW execute function "certificate_events_certificate_events_no_change_fn"();`);
    // The audit trail is append-only, and the database itself holds to it. The row trigger above
    // is the entity's; TRUNCATE needs a statement trigger, which the entity cannot declare.
    this.addSql(`create trigger "certificate_events_no_truncate" before truncate on "certificate_events" for each statement execute function "certificate_events_certificate_events_no_change_fn"();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "certificate_events_no_truncate" on "certificate_events";`);
    this.addSql(`alter table "certificate_events" drop constraint "certificate_events_certificate_id_foreign";`);
    this.addSql(`drop table if exists "certificate_signing_keys" cascade;`);
    this.addSql(`drop table if exists "certificate_rules" cascade;`);
    this.addSql(`drop table if exists "certificates" cascade;`);
    this.addSql(`drop trigger if exists "certificate_events_no_change" on "certificate_events";`);
    this.addSql(`drop function if exists "certificate_events_certificate_events_no_change_fn"();`);
    this.addSql(`drop table if exists "certificate_events" cascade;`);
  }

}
