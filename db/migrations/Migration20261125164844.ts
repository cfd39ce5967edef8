import { Migration } from '@mikro-orm/migrations';

// Live task change notifications (lib/task-events.ts LISTENs on the channel). Every table that feeds
// a Task object or its conversation notifies `taskd_task_events` with
// "<task id>:<kind>:<owner id>:<organization id>" for each affected task, so one connection per API
// process learns about changes without any client polling the database. Owner and organization ride
// along so the API can fan a change out to list watchers without a lookup (and still can after a
// hard delete).
//
// The triggers are statement-level with transition tables: one indexed join per statement however
// many rows it touched (a batch of forwarded messages is one notification). Updates that cannot
// change what a client sees (heartbeats, last_connected_at, prompt_delivered_at) are filtered out by
// comparing the old and new rows. PostgreSQL folds identical notifications of one transaction and
// delivers them at commit, so a build completion that writes five tables reaches a client once per
// kind, and never before the data is visible.
const CHANNEL = 'taskd_task_events';

const notifyFunction = `
create function taskd_notify_task(task_id uuid, kind text, owner_id uuid, organization_id uuid) returns void
language sql as $$
  select pg_notify('${CHANNEL}', task_id::text || ':' || kind || ':' || owner_id::text || ':' || organization_id::text)
$$;`;

const functions: Record<string, string> = {
  taskd_tasks_changed: `
  if tg_op = 'INSERT' then
    perform taskd_notify_task(n.id, 'task', n.owner_id, n.organization_id) from new_rows n;
  elsif tg_op = 'UPDATE' then
    perform taskd_notify_task(n.id, case when n.deleted_at is null then 'task' else 'deleted' end, n.owner_id, n.organization_id)
      from new_rows n join old_rows o on o.id = n.id
      where (n.deleted_at, n.name, n.display_name, n.prompt, n.workspace_id)
        is distinct from (o.deleted_at, o.name, o.display_name, o.prompt, o.workspace_id);
  else
    perform taskd_notify_task(o.id, 'deleted', o.owner_id, o.organization_id) from old_rows o;
  end if;`,
  taskd_workspace_builds_changed: `
  perform taskd_notify_task(t.id, 'build', t.owner_id, t.organization_id)
    from (select distinct workspace_id from new_rows) n
    join tasks t on t.workspace_id = n.workspace_id and t.deleted_at is null;`,
  taskd_workspace_agents_changed: `
  if tg_op = 'INSERT' then
    perform taskd_notify_task(t.id, 'agent', t.owner_id, t.organization_id)
      from (select distinct build_id from new_rows) a
      join workspace_builds b on b.id = a.build_id
      join tasks t on t.workspace_id = b.workspace_id and t.deleted_at is null;
  else
    perform taskd_notify_task(t.id, 'agent', t.owner_id, t.organization_id)
      from (select distinct n.build_id from new_rows n join old_rows o on o.id = n.id
            where (o.lifecycle_state, o.first_connected_at) is distinct from (n.lifecycle_state, n.first_connected_at)) a
      join workspace_builds b on b.id = a.build_id
      join tasks t on t.workspace_id = b.workspace_id and t.deleted_at is null;
  end if;`,
  taskd_workspace_apps_changed: `
  if tg_op = 'INSERT' then
    perform taskd_notify_task(t.id, 'app', t.owner_id, t.organization_id)
      from (select distinct agent_id from new_rows) p
      join workspace_agents a on a.id = p.agent_id
      join workspace_builds b on b.id = a.build_id
      join tasks t on t.workspace_id = b.workspace_id and t.deleted_at is null;
  else
    perform taskd_notify_task(t.id, 'app', t.owner_id, t.organization_id)
      from (select distinct n.agent_id from new_rows n join old_rows o on o.id = n.id
            where (o.health, o.url) is distinct from (n.health, n.url)) p
      join workspace_agents a on a.id = p.agent_id
      join workspace_builds b on b.id = a.build_id
      join tasks t on t.workspace_id = b.workspace_id and t.deleted_at is null;
  end if;`,
  taskd_workspace_app_statuses_changed: `
  perform taskd_notify_task(t.id, 'state', t.owner_id, t.organization_id)
    from (select distinct workspace_id from new_rows) n
    join tasks t on t.workspace_id = n.workspace_id and t.deleted_at is null;`,
  taskd_task_messages_changed: `
  perform taskd_notify_task(t.id, 'log', t.owner_id, t.organization_id)
    from (select distinct task_id from new_rows) n
    join tasks t on t.id = n.task_id and t.deleted_at is null;`,
  taskd_task_workspace_apps_changed: `
  perform taskd_notify_task(t.id, 'build', t.owner_id, t.organization_id)
    from (select distinct task_id from new_rows) n
    join tasks t on t.id = n.task_id and t.deleted_at is null;`,
};

/** [table, function, events]: one trigger per event, because each event has its own transition tables. */
const triggers: [string, string, ('insert' | 'update' | 'delete')[]][] = [
  ['tasks', 'taskd_tasks_changed', ['insert', 'update', 'delete']],
  ['workspace_builds', 'taskd_workspace_builds_changed', ['insert', 'update']],
  ['workspace_agents', 'taskd_workspace_agents_changed', ['insert', 'update']],
  ['workspace_apps', 'taskd_workspace_apps_changed', ['insert', 'update']],
  ['workspace_app_statuses', 'taskd_workspace_app_statuses_changed', ['insert']],
  ['task_messages', 'taskd_task_messages_changed', ['insert', 'update']],
  ['task_workspace_apps', 'taskd_task_workspace_apps_changed', ['insert', 'update']],
];

const REFERENCING = {
  insert: 'referencing new table as new_rows',
  update: 'referencing old table as old_rows new table as new_rows',
  delete: 'referencing old table as old_rows',
} as const;

export class Migration20261125164844 extends Migration {
  override async up(): Promise<void> {
    this.addSql(notifyFunction);
    for (const [name, body] of Object.entries(functions)) {
      this.addSql(`create function ${name}() returns trigger language plpgsql as $$
begin${body}
  return null;
end $$;`);
    }
    for (const [table, fn, events] of triggers) {
      for (const event of events) {
        this.addSql(
          `create trigger ${table}_notify_${event} after ${event} on "${table}" ${REFERENCING[event]} ` +
            `for each statement execute function ${fn}();`,
        );
      }
    }
  }

  override async down(): Promise<void> {
    for (const [table, , events] of triggers) {
      for (const event of events) this.addSql(`drop trigger if exists ${table}_notify_${event} on "${table}";`);
    }
    for (const name of Object.keys(functions)) this.addSql(`drop function if exists ${name}();`);
    this.addSql('drop function if exists taskd_notify_task(uuid, text, uuid, uuid);');
  }
}
