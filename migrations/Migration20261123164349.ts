import { Migration } from '@mikro-orm/migrations';

export class Migration20261123164349 extends Migration {

  override name = 'Migration20261123164349';

  override up(): void | Promise<void> {
    this.addSql(`create table "report_submission_facts" ("submission_id" int not null, "assignment_id" int not null, "learner_id" int not null, "turned_in" boolean not null, "graded" boolean not null, "turnaround" double precision null, primary key ("submission_id"));`);
    this.addSql(`alter table "report_submission_facts" add constraint "report_submission_facts_assignment_id_learner_id_unique" unique ("assignment_id", "learner_id");`);

    this.addSql(`alter table "report_rollup_state" add "last_grade_change_id" int not null default 0;`);
    // Forgetting the state makes the next refresh count everything, the new rollup included.
    this.addSql(`delete from "report_rollup_state";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "report_submission_facts" cascade;`);

    this.addSql(`alter table "report_rollup_state" drop column "last_grade_change_id";`);
  }

}
