import { Migration } from '@mikro-orm/migrations';

export class Migration20261123131333 extends Migration {

  override name = 'Migration20261123131333';

  override up(): void | Promise<void> {
    this.addSql(`create index "submission_versions_late_index" on "submission_versions" ("submission_id", "number") include ("late_seconds");`);

    this.addSql(`create index "grades_state_index" on "grades" ("submission_id") include ("version_number", "released_at");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "grades_state_index";`);

    this.addSql(`drop index "submission_versions_late_index";`);
  }

}
