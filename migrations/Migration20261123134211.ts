import { Migration } from '@mikro-orm/migrations';

export class Migration20261123134211 extends Migration {

  override name = 'Migration20261123134211';

  override up(): void | Promise<void> {
    this.addSql(`create table "report_learner_progress" ("learner_id" int not null, "started_courses" int[] not null, "completed_courses" int[] not null, "completed_units" int[] not null, "last_at" timestamptz not null, primary key ("learner_id"));`);

    this.addSql(`alter table "report_rollup_state" add "last_completion_id" int not null default 0;`);

    // The next refresh counts everything again, and so fills the new rollup for the records already there.
    this.addSql(`update "report_rollup_state" set "lessons_fingerprint" = '';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "report_learner_progress" cascade;`);

    this.addSql(`alter table "report_rollup_state" drop column "last_completion_id";`);
  }

}
