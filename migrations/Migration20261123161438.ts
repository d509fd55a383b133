import { Migration } from '@mikro-orm/migrations';

export class Migration20261123161438 extends Migration {

  override name = 'Migration20261123161438';

  override up(): void | Promise<void> {
    this.addSql(`create table "report_issue_months" ("learner_id" int not null, "programme_id" int not null, "month" date not null, "unit" varchar(20) not null, "currency" varchar(3) not null, "amount" bigint not null, "first_day" date not null, "last_day" date not null, primary key ("learner_id", "programme_id", "month", "unit", "currency"));`);

    this.addSql(`alter table "report_rollup_state" add "last_ledger_id" bigint not null default '0';`);

    this.addSql(`create index "allowance_ledger_at_index" on "allowance_ledger" ("at");`);
    // Forgetting the state makes the next refresh count everything, the new rollup included.
    this.addSql(`delete from "report_rollup_state";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "report_issue_months" cascade;`);

    this.addSql(`drop index "allowance_ledger_at_index";`);

    this.addSql(`alter table "report_rollup_state" drop column "last_ledger_id";`);
  }

}
