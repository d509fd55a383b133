import { Migration } from '@mikro-orm/migrations';

export class Migration20261123134755 extends Migration {

  override name = 'Migration20261123134755';

  override up(): void | Promise<void> {
    this.addSql(`create table "report_data_months" ("learner_id" int not null, "month" date not null, "bytes" bigint not null, primary key ("learner_id", "month"));`);
    this.addSql(`create index "report_data_months_month_learner_id_index" on "report_data_months" ("month", "learner_id");`);

    // The next refresh counts everything again, and so fills the new rollup for the records already there.
    this.addSql(`update "report_rollup_state" set "lessons_fingerprint" = '';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "report_data_months" cascade;`);
  }

}
