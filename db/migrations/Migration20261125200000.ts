import { Migration } from '@mikro-orm/migrations';

// Invalidations for the API's session cache (lib/session-cache.ts). Each API process keeps the
// rows of recently used keys; these triggers tell every process, through `taskd_auth_events`, when
// one of them stops being true:
//   "key:<id>"   a key was deleted, or its secret, expiry or owner changed;
//   "user:<id>"  a user changed or was deleted (suspension, site-owner flag, name).
// `last_used` is deliberately not watched: the API writes it itself, once a minute per key.
// PostgreSQL delivers the notification at commit, never before the change is visible.
const CHANNEL = 'taskd_auth_events';

export class Migration20261125200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create function taskd_api_keys_changed() returns trigger language plpgsql as $$
begin
  perform pg_notify('${CHANNEL}', 'key:' || old.id);
  return null;
end $$;`);
    this.addSql(`create function taskd_users_changed() returns trigger language plpgsql as $$
begin
  perform pg_notify('${CHANNEL}', 'user:' || old.id::text);
  return null;
end $$;`);
    this.addSql(
      'create trigger api_keys_notify_auth after delete or update of id, hashed_secret, expires_at, user_id on "api_keys" ' +
        'for each row execute function taskd_api_keys_changed();',
    );
    this.addSql('create trigger users_notify_auth after update or delete on "users" for each row execute function taskd_users_changed();');
  }

  override async down(): Promise<void> {
    this.addSql('drop trigger if exists api_keys_notify_auth on "api_keys";');
    this.addSql('drop trigger if exists users_notify_auth on "users";');
    this.addSql('drop function if exists taskd_api_keys_changed();');
    this.addSql('drop function if exists taskd_users_changed();');
  }
}
