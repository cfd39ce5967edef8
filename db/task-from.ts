// The FROM clause of the task read model: the status view with the workspace, its template, the
// latest build, the latest app status and the task agent of that build — everything a Coder Task
// object is made of, one row per task. Kept free of imports so the read-path benchmark's bare
// baseline (bench/baseline/bare-read-server.ts) runs exactly the joins taskd runs.
export const TASK_FROM = `
from tasks_with_status t
left join workspaces w on w.id = t.workspace_id
left join templates tpl on tpl.id = w.template_id
left join lateral (
  select b.id, b.transition, b.job_status, b.created_at from workspace_builds b
  where b.workspace_id = t.workspace_id order by b.build_number desc limit 1
) lb on true
left join lateral (
  select s.state, s.message, s.uri, s.created_at from workspace_app_statuses s
  where s.workspace_id = t.workspace_id order by s.created_at desc, s.id desc limit 1
) las on true
left join workspace_agents ag on ag.id = t.workspace_agent_id and ag.build_id = lb.id`;
