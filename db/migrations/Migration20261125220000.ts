import { Migration } from '@mikro-orm/migrations';

// Failed password logins, shared by every API process (lib/login-throttle.ts): a limit counted in
// one process's memory let a client that reached N processes try N times as often. Keyed by a
// SHA-256 of "<client address>|<email>" so the table holds no addresses or emails; rows older than
// the window are deleted as new failures arrive.
export class Migration20261125220000 extends Migration {
  override async up(): Promise<void> {
    this.addSql('create table "login_failures" ("key_hash" char(64) not null, "failed_at" timestamptz not null default now());');
    this.addSql('create index "login_failures_key_hash_failed_at_index" on "login_failures" ("key_hash", "failed_at" desc);');
    this.addSql('create index "login_failures_failed_at_index" on "login_failures" ("failed_at");');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists "login_failures";');
  }
}
