import { Migration } from '@mikro-orm/migrations';

/**
 * On-call questions and messages carry the idempotency key of the form that sent them, unique per
 * author: the same form sent twice is stored once, the same words sent twice from two forms are two.
 * Rows written before have no key; each gets one of its own, and a thread the key of its first message.
 */
export class Migration20261123130111 extends Migration {

  override name = 'Migration20261123130111';

  override up(): void | Promise<void> {
    this.addSql(`alter table "oncall_messages" add "request_key" varchar(64) null;`);
    this.addSql(`update "oncall_messages" set "request_key" = 'legacy-' || "id";`);
    this.addSql(`alter table "oncall_messages" alter column "request_key" set not null;`);
    this.addSql(`alter table "oncall_messages" add constraint "oncall_messages_author_id_request_key_unique" unique ("author_id", "request_key");`);

    this.addSql(`alter table "oncall_threads" add "request_key" varchar(64) null;`);
    this.addSql(`update "oncall_threads" t set "request_key" = coalesce((select m."request_key" from "oncall_messages" m where m."thread_id" = t."id" and m."author_id" = t."learner_id" order by m."id" limit 1), 'legacy-thread-' || t."id");`);
    this.addSql(`alter table "oncall_threads" alter column "request_key" set not null;`);
    this.addSql(`alter table "oncall_threads" add constraint "oncall_threads_learner_id_request_key_unique" unique ("learner_id", "request_key");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "oncall_messages" drop constraint "oncall_messages_author_id_request_key_unique";`);
    this.addSql(`alter table "oncall_messages" drop column "request_key";`);

    this.addSql(`alter table "oncall_threads" drop constraint "oncall_threads_learner_id_request_key_unique";`);
    this.addSql(`alter table "oncall_threads" drop column "request_key";`);
  }

}
