import { Migration } from '@mikro-orm/migrations';

// A change of someone's organization roles or membership changes what they may see: notify
// "user:<id>" on `taskd_auth_events` (as a change of the user row does, migration 20261125200000), so
// every API process re-checks that user's open watch streams at once instead of at the next change.
const CHANNEL = 'taskd_auth_events';

export class Migration20261203190000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create function taskd_memberships_changed() returns trigger language plpgsql as $$
begin
  perform pg_notify('${CHANNEL}', 'user:' || coalesce(new.user_id, old.user_id)::text);
  return null;
end $$;`);
    this.addSql(
      'create trigger organization_members_notify_auth after insert or update or delete on "organization_members" ' +
        'for each row execute function taskd_memberships_changed();',
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop trigger if exists organization_members_notify_auth on "organization_members";');
    this.addSql('drop function if exists taskd_memberships_changed();');
  }
}
