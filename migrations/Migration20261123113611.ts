import { Migration } from '@mikro-orm/migrations';

/**
 * The ledger's row trigger under the function name the entity declares, so that schema diffs see
 * it as present and never propose dropping it. The TRUNCATE trigger keeps its own function.
 */
export class Migration20261123113611 extends Migration {

  override name = 'Migration20261123113611';

  override up(): void | Promise<void> {
    this.addSql(`drop trigger "allowance_ledger_no_change" on "allowance_ledger";`);
    this.addSql(`create function "allowance_ledger_allowance_ledger_no_change_fn"() returns trigger as $$ begin raise exception 'allowance_ledger is append-only: % is refused', tg_op using errcode = 'restrict_violation'; end; $$ language plpgsql;`);
    this.addSql(`create trigger "allowance_ledger_no_change" before update or delete on "allowance_ledger" for each row execute function "allowance_ledger_allowance_ledger_no_change_fn"();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger "allowance_ledger_no_change" on "allowance_ledger";`);
    this.addSql(`drop function "allowance_ledger_allowance_ledger_no_change_fn"();`);
    this.addSql(`create trigger "allowance_ledger_no_change" before update or delete on "allowance_ledger" for each row execute function allowance_ledger_append_only();`);
  }

}
