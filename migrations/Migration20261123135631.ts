import { Migration } from '@mikro-orm/migrations';

export class Migration20261123135631 extends Migration {

  override name = 'Migration20261123135631';

  override up(): void | Promise<void> {
    // The rows already counted have no days to fill in: they are counted again by the next refresh.
    this.addSql(`truncate "report_data_months";`);
    this.addSql(`alter table "report_data_months" add "first_day" date not null, add "last_day" date not null;`);
    this.addSql(`update "report_rollup_state" set "lessons_fingerprint" = '';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "report_data_months" drop column "first_day", drop column "last_day";`);
  }

}
