import { Migration } from '@mikro-orm/migrations';

export class Migration20261123093322 extends Migration {

  override name = 'Migration20261123093322';

  override up(): void | Promise<void> {
    this.addSql(`drop table if exists "rate_limits" cascade;`);
    this.addSql(`drop table if exists "session" cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`create table "rate_limits" ("key" varchar(255) not null, "points" int4 not null default 0, "expire" int8 null, primary key ("key"));`);

    this.addSql(`create table "session" ("sid" varchar not null, "sess" json not null, "expire" timestamp(6) not null, primary key ("sid"));`);
    this.addSql(`create index "session_expire_index" on "session" ("expire");`);
    this.addSql(`CREATE INDEX session_user_index ON public.session USING btree (((sess ->> 'userId'::text)));`);
  }

}
