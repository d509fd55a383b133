import { Migration } from '@mikro-orm/migrations';

/**
 * Tables owned by libraries rather than entities: the session store (connect-pg-simple) and the
 * login rate limiter (rate-limiter-flexible). Created here so that no library creates schema at
 * run time, and kept out of the entity snapshot so schema diffs leave them alone.
 */
export class Migration20261123093100 extends Migration {
  override name = 'Migration20261123093100';

  override up(): void {
    this.addSql(`create table "session" ("sid" varchar not null primary key, "sess" json not null, "expire" timestamp(6) not null);`);
    this.addSql(`create index "session_expire_index" on "session" ("expire");`);
    // Ending every session of one user (logout everywhere, deactivation) looks them up by user.
    this.addSql(`create index "session_user_index" on "session" ((sess->>'userId'));`);
    this.addSql(`create table "rate_limits" ("key" varchar(255) primary key, "points" integer not null default 0, "expire" bigint);`);
  }
}
