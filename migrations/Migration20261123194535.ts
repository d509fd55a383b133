import { Migration } from '@mikro-orm/migrations';

export class Migration20261123194535 extends Migration {

  override name = 'Migration20261123194535';

  override up(): void | Promise<void> {
    this.addSql(`create table "report_issue_month_totals" ("programme_id" int not null, "month" date not null, "unit" varchar(20) not null, "currency" varchar(3) not null, "learners" int not null, "amount" bigint not null, primary key ("programme_id", "month", "unit", "currency"));`);

    this.addSql(`create table "report_issue_totals" ("learner_id" int not null, "programme_id" int not null, "first_month" int not null, "megabytes" int[] not null, primary key ("learner_id", "programme_id"));`);

    // Forgetting the state makes the next refresh count everything, the new rollups included.
    this.addSql(`delete from "report_rollup_state";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "report_issue_month_totals" cascade;`);
    this.addSql(`drop table if exists "report_issue_totals" cascade;`);
  }

}
