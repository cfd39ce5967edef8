import { Migration } from '@mikro-orm/migrations';

// The send queue is part of what a watched task shows (`queued_inputs`): a queued, cancelled or
// delivered input notifies `taskd_task_events` with kind "task", as the tables of migration
// 20261125164844 do, so a watch stream sends the task again.
const EVENTS = {
  insert: 'referencing new table as new_rows',
  update: 'referencing old table as old_rows new table as new_rows',
} as const;

export class Migration20261204040000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create function taskd_task_queued_inputs_changed() returns trigger language plpgsql as $$
begin
  perform taskd_notify_task(t.id, 'task', t.owner_id, t.organization_id)
    from (select distinct task_id from new_rows) n
    join tasks t on t.id = n.task_id and t.deleted_at is null;
  return null;
end $$;`);
    for (const [event, referencing] of Object.entries(EVENTS)) {
      this.addSql(
        `create trigger task_queued_inputs_notify_${event} after ${event} on "task_queued_inputs" ${referencing} ` +
          'for each statement execute function taskd_task_queued_inputs_changed();',
      );
    }
  }

  override async down(): Promise<void> {
    for (const event of Object.keys(EVENTS)) this.addSql(`drop trigger if exists task_queued_inputs_notify_${event} on "task_queued_inputs";`);
    this.addSql('drop function if exists taskd_task_queued_inputs_changed();');
  }
}
