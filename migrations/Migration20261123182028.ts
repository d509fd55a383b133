import { Migration } from '@mikro-orm/migrations';

export class Migration20261123182028 extends Migration {

  override name = 'Migration20261123182028';

  override up(): void | Promise<void> {
    this.addSql(`create table "report_study_totals" ("learner_id" int not null, "first_month" int not null, "language" int[] not null, "soft_skills" int[] not null, primary key ("learner_id"));`);

    // Forgetting the state makes the next refresh count everything, the new rollup included.
    this.addSql(`delete from "report_rollup_state";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "report_study_totals" cascade;`);
  }

}
