import { Migration } from '@mikro-orm/migrations';

/**
 * Data allowances: schemes and their versions, issue batches, one allowance per learner, scheme
 * and period (unique), the append-only ledger (enforced by a trigger), and daily data usage.
 */
export class Migration20261123094126 extends Migration {

  override name = 'Migration20261123094126';

  override up(): void | Promise<void> {
    this.addSql(`create table "data_usage" ("learner_id" int not null, "day" date not null, "bytes" bigint not null, primary key ("learner_id", "day"));`);

    this.addSql(`create table "allowance_schemes" ("id" serial primary key, "programme_id" int not null, "name" varchar(120) not null, "created_by_id" int not null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "allowance_schemes" add constraint "allowance_schemes_programme_id_name_unique" unique ("programme_id", "name");`);

    this.addSql(`create table "allowance_scheme_versions" ("id" serial primary key, "scheme_id" int not null, "version" int not null, "starts_on" date not null, "period" text not null, "unit" text not null, "currency" varchar(3) null, "amount" int not null, "budget" int not null, "rule" text not null, "threshold" int not null, "cohort_ids" jsonb not null, "site_ids" jsonb not null, "note" text null, "created_by_id" int not null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "allowance_scheme_versions" add constraint "allowance_scheme_versions_scheme_id_version_unique" unique ("scheme_id", "version");`);

    this.addSql(`create table "allowance_batches" ("id" serial primary key, "scheme_id" int not null, "version_id" int not null, "period_start" date not null, "period_end" date not null, "idempotency_key" varchar(64) not null, "issued_count" int not null, "left_out_for_budget" int not null default 0, "created_by_id" int not null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "allowance_batches" add constraint "allowance_batches_idempotency_key_unique" unique ("idempotency_key");`);
    this.addSql(`create index "allowance_batches_scheme_id_period_start_index" on "allowance_batches" ("scheme_id", "period_start");`);

    this.addSql(`create table "allowance_issues" ("id" serial primary key, "scheme_id" int not null, "batch_id" int not null, "learner_id" int not null, "period_start" date not null, "amount" int not null, "unit" text not null, "currency" varchar(3) null, "phone" varchar(16) not null, "operator" varchar(40) null, "status" text not null, "attempt" int not null default 0, "operator_transaction_id" varchar(100) null, "created_at" timestamptz not null);`);
    this.addSql(`create index "allowance_issues_batch_id_index" on "allowance_issues" ("batch_id");`);
    this.addSql(`create index "allowance_issues_learner_id_index" on "allowance_issues" ("learner_id");`);
    this.addSql(`alter table "allowance_issues" add constraint "allowance_issues_scheme_id_learner_id_period_start_unique" unique ("scheme_id", "learner_id", "period_start");`);

    this.addSql(`create table "allowance_ledger" ("id" bigserial primary key, "issue_id" int not null, "batch_id" int not null, "scheme_id" int not null, "learner_id" int not null, "period_start" date not null, "kind" text not null, "amount" int not null, "unit" text not null, "currency" varchar(3) null, "status_after" text not null, "phone" varchar(16) null, "reference" varchar(40) null, "handoff" uuid null, "operator_transaction_id" varchar(100) null, "why_key" varchar(80) not null, "why_vars" jsonb not null, "note" text null, "actor_id" int not null, "at" timestamptz not null);`);
    this.addSql(`create index "allowance_ledger_issue_id_index" on "allowance_ledger" ("issue_id");`);
    this.addSql(`create index "allowance_ledger_batch_id_index" on "allowance_ledger" ("batch_id");`);
    this.addSql(`create index "allowance_ledger_learner_id_index" on "allowance_ledger" ("learner_id");`);
    this.addSql(`create index "allowance_ledger_scheme_id_period_start_index" on "allowance_ledger" ("scheme_id", "period_start");`);
    this.addSql(`create index "allowance_ledger_handoff_index" on "allowance_ledger" ("handoff");`);

    this.addSql(`alter table "data_usage" add constraint "data_usage_learner_id_foreign" foreign key ("learner_id") references "users" ("id") on delete cascade;`);

    this.addSql(`alter table "allowance_schemes" add constraint "allowance_schemes_programme_id_foreign" foreign key ("programme_id") references "programmes" ("id");`);
    this.addSql(`alter table "allowance_schemes" add constraint "allowance_schemes_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id");`);

    this.addSql(`alter table "allowance_scheme_versions" add constraint "allowance_scheme_versions_scheme_id_foreign" foreign key ("scheme_id") references "allowance_schemes" ("id");`);
    this.addSql(`alter table "allowance_scheme_versions" add constraint "allowance_scheme_versions_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id");`);
    this.addSql(`alter table "allowance_scheme_versions" add constraint "allowance_scheme_versions_period_check" check ("period" in ('weekly', 'monthly'));`);
    this.addSql(`alter table "allowance_scheme_versions" add constraint "allowance_scheme_versions_unit_check" check ("unit" in ('megabytes', 'airtime'));`);
    this.addSql(`alter table "allowance_scheme_versions" add constraint "allowance_scheme_versions_rule_check" check ("rule" in ('enrolled', 'lessons', 'minutes', 'assignment'));`);

    this.addSql(`alter table "allowance_batches" add constraint "allowance_batches_scheme_id_foreign" foreign key ("scheme_id") references "allowance_schemes" ("id");`);
    this.addSql(`alter table "allowance_batches" add constraint "allowance_batches_version_id_foreign" foreign key ("version_id") references "allowance_scheme_versions" ("id");`);
    this.addSql(`alter table "allowance_batches" add constraint "allowance_batches_created_by_id_foreign" foreign key ("created_by_id") references "users" ("id");`);

    this.addSql(`alter table "allowance_issues" add constraint "allowance_issues_scheme_id_foreign" foreign key ("scheme_id") references "allowance_schemes" ("id");`);
    this.addSql(`alter table "allowance_issues" add constraint "allowance_issues_batch_id_foreign" foreign key ("batch_id") references "allowance_batches" ("id");`);
    this.addSql(`alter table "allowance_issues" add constraint "allowance_issues_learner_id_foreign" foreign key ("learner_id") references "users" ("id");`);
    this.addSql(`alter table "allowance_issues" add constraint "allowance_issues_unit_check" check ("unit" in ('megabytes', 'airtime'));`);
    this.addSql(`alter table "allowance_issues" add constraint "allowance_issues_status_check" check ("status" in ('pending', 'sent', 'delivered', 'failed', 'cancelled'));`);

    this.addSql(`alter table "allowance_ledger" add constraint "allowance_ledger_issue_id_foreign" foreign key ("issue_id") references "allowance_issues" ("id");`);
    this.addSql(`alter table "allowance_ledger" add constraint "allowance_ledger_batch_id_foreign" foreign key ("batch_id") references "allowance_batches" ("id");`);
    this.addSql(`alter table "allowance_ledger" add constraint "allowance_ledger_scheme_id_foreign" foreign key ("scheme_id") references "allowance_schemes" ("id");`);
    this.addSql(`alter table "allowance_ledger" add constraint "allowance_ledger_learner_id_foreign" foreign key ("learner_id") references "users" ("id");`);
    this.addSql(`alter table "allowance_ledger" add constraint "allowance_ledger_actor_id_foreign" foreign key ("actor_id") references "users" ("id");`);
    this.addSql(`alter table "allowance_ledger" add constraint "allowance_ledger_kind_check" check ("kind" in ('issued', 'sent', 'delivered', 'failed', 'resent', 'cancelled'));`);
    this.addSql(`alter table "allowance_ledger" add constraint "allowance_ledger_unit_check" check ("unit" in ('megabytes', 'airtime'));`);
    this.addSql(`alter table "allowance_ledger" add constraint "allowance_ledger_status_after_check" check ("status_after" in ('pending', 'sent', 'delivered', 'failed', 'cancelled'));`);

    // What the ORM cannot say. Amounts are whole positive numbers; usage never goes below zero.
    this.addSql(`alter table "allowance_scheme_versions" add constraint "allowance_scheme_versions_amounts_check" check (amount > 0 and budget >= amount and threshold >= 1 and version >= 1);`);
    this.addSql(`alter table "allowance_scheme_versions" add constraint "allowance_scheme_versions_currency_check" check ((unit = 'airtime') = (currency is not null));`);
    this.addSql(`alter table "allowance_issues" add constraint "allowance_issues_amount_check" check (amount > 0 and attempt >= 0);`);
    this.addSql(`alter table "allowance_batches" add constraint "allowance_batches_counts_check" check (issued_count >= 0 and left_out_for_budget >= 0);`);
    this.addSql(`alter table "data_usage" add constraint "data_usage_bytes_check" check (bytes >= 0);`);

    // The ledger is append-only, and the database itself holds to it: whatever the code does, a
    // row once written is never changed or removed. Corrections are new, reversing rows.
    this.addSql(`create function allowance_ledger_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'allowance_ledger is append-only: % is refused', tg_op using errcode = 'restrict_violation';
      end;
    $$;`);
    this.addSql(`create trigger allowance_ledger_no_change before update or delete on "allowance_ledger" for each row execute function allowance_ledger_append_only();`);
    this.addSql(`create trigger allowance_ledger_no_truncate before truncate on "allowance_ledger" for each statement execute function allowance_ledger_append_only();`);
  }

}
