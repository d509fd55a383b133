import { Migration } from '@mikro-orm/migrations';

export class Migration20261123193002 extends Migration {

  override name = 'Migration20261123193002';

  override up(): void | Promise<void> {
    this.addSql(`create table "report_quiz_months" ("lesson_id" int not null, "month" int not null, "taken" int not null, "attempts" int not null, "best_sum" bigint not null, "passed" int not null, primary key ("lesson_id", "month"));`);

    this.addSql(`create table "report_quiz_totals" ("learner_id" int not null, "first_month" int not null, "taken" int[] not null, "best_sum" int[] not null, "passed" int[] not null, primary key ("learner_id"));`);

    this.addSql(`create index "report_quiz_best_span_index" on "report_quiz_best" using gist (tstzrange("first_at", "last_at", '[]'));`);
    this.addSql(`create index "report_quiz_best_last_at_index" on "report_quiz_best" ("last_at");`);

    // Forgetting the state makes the next refresh count everything, the new rollups included.
    this.addSql(`delete from "report_rollup_state";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "report_quiz_months" cascade;`);
    this.addSql(`drop table if exists "report_quiz_totals" cascade;`);

    this.addSql(`drop index "report_quiz_best_span_index";`);
    this.addSql(`drop index "report_quiz_best_last_at_index";`);
  }

}
