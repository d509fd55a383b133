import { Migration } from '@mikro-orm/migrations';

export class Migration20261123135322 extends Migration {

  override name = 'Migration20261123135322';

  override up(): void | Promise<void> {
    this.addSql(`create table "report_quiz_best" ("learner_id" int not null, "lesson_id" int not null, "first_at" timestamptz not null, "last_at" timestamptz not null, "best" int not null, "passed" boolean not null, "attempts" int not null, primary key ("learner_id", "lesson_id"));`);

    this.addSql(`alter table "report_rollup_state" add "last_quiz_attempt_id" int not null default 0;`);

    // The next refresh counts everything again, and so fills the new rollup for the records already there.
    this.addSql(`update "report_rollup_state" set "lessons_fingerprint" = '';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "report_quiz_best" cascade;`);

    this.addSql(`alter table "report_rollup_state" drop column "last_quiz_attempt_id";`);
  }

}
