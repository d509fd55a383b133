import { Migration } from '@mikro-orm/migrations';

export class Migration20261123140419 extends Migration {

  override name = 'Migration20261123140419';

  override up(): void | Promise<void> {
    // The rows already counted have no last day to fill in: they are counted again by the next refresh.
    this.addSql(`truncate "report_study_months";`);
    this.addSql(`alter table "report_study_months" add "last_day" date not null;`);
    // Forgetting the state makes the next refresh count everything, and the pages say meanwhile that
    // the figures are being counted rather than show the emptied rollup as counted.
    this.addSql(`delete from "report_rollup_state";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "report_study_months" drop column "last_day";`);
  }

}
