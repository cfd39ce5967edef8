import { Migration } from '@mikro-orm/migrations';

// The read model every task read goes through (spec §1.2/§2.1). Status is computed here, in one
// place, so list filters and single reads agree by construction. test/db/task-status-view.test.ts
// checks this CASE against domain/task-status.ts row by row.
export class Migration20261125162150 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "task_workspace_apps_task_id_build_desc" on "task_workspace_apps" ("task_id", "workspace_build_number" desc);`);
    this.addSql(`create index "tasks_live_created_at" on "tasks" ("created_at" desc, "id") where "deleted_at" is null;`);
    this.addSql(`create view "tasks_with_status" as
select
  t.*,
  twa.workspace_build_number,
  twa.workspace_agent_id,
  twa.workspace_app_id,
  wa.lifecycle_state as workspace_agent_lifecycle_state,
  app.health as workspace_app_health,
  b.transition as build_transition,
  b.job_status as build_job_status,
  u.username as owner_username,
  u.name as owner_name,
  u.avatar_url as owner_avatar_url,
  (case
    when t.workspace_id is null then 'pending'
    when b.job_status is null then 'pending'
    when b.job_status in ('failed', 'canceling', 'canceled') then 'error'
    when b.transition in ('stop', 'delete') and b.job_status = 'succeeded' then 'paused'
    when b.transition = 'start' and b.job_status = 'pending' then 'pending'
    when not (b.transition = 'start' and b.job_status in ('running', 'succeeded')) then 'unknown'
    when twa.workspace_agent_id is null or wa.lifecycle_state in ('created', 'starting') then 'initializing'
    when coalesce(wa.lifecycle_state, '') not in ('ready', 'start_timeout', 'start_error') then 'unknown'
    when app.health = 'initializing' then 'initializing'
    when app.health = 'unhealthy' then 'error'
    when app.health in ('healthy', 'disabled') then 'active'
    else 'unknown'
  end)::text as status
from tasks t
join users u on u.id = t.owner_id
left join lateral (
  select x.* from task_workspace_apps x
  where x.task_id = t.id
  order by x.workspace_build_number desc
  limit 1
) twa on true
left join workspace_builds b on b.workspace_id = t.workspace_id and b.build_number = twa.workspace_build_number
left join workspace_agents wa on wa.id = twa.workspace_agent_id
left join workspace_apps app on app.id = twa.workspace_app_id
where t.deleted_at is null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop view if exists "tasks_with_status";`);
    this.addSql(`drop index if exists "tasks_live_created_at";`);
    this.addSql(`drop index if exists "task_workspace_apps_task_id_build_desc";`);
  }
}
