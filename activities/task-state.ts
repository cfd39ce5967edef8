import type { EntityManager } from '@mikro-orm/postgresql';
import { workspaceDefinitionSchema } from '../domain/workspace-definition';
import type { AgentLifecycle, AppHealth, BuildTransition, JobStatus } from '../domain/task-status';
import { businessFailure, sql, sqlOne } from './db';
import type { TaskAppState, TaskRecordsState, TaskSettings } from './types';

// Reading a task back into the shape the workflow keeps in memory. Used when a workflow starts on a
// task that already exists (a retried create, a task written by a benchmark, a lost workflow).

const DEFAULT_TIMEOUT_S = 300;

/** Timeouts and auto-pause of a template version's definition; defaults when it does not parse. */
export function settingsFromDefinition(definition: unknown): TaskSettings {
  const parsed = workspaceDefinitionSchema.safeParse(definition);
  const d = parsed.success ? parsed.data : null;
  return {
    agentReadyS: d?.timeouts?.agent_ready_s ?? DEFAULT_TIMEOUT_S,
    appHealthyS: d?.timeouts?.app_healthy_s ?? DEFAULT_TIMEOUT_S,
    idleTimeoutS: d?.auto_pause?.idle_timeout_s ?? null,
  };
}

export async function loadTaskSettings(em: EntityManager, templateVersionId: string): Promise<TaskSettings> {
  const row = await sqlOne<{ definition: unknown }>(em, 'select definition from template_versions where id = ?', [templateVersionId]);
  return settingsFromDefinition(row?.definition ?? null);
}

/** The latest task_workspace_apps row with its agent's lifecycle and its app's health. */
export async function loadTaskAppState(em: EntityManager, taskId: string): Promise<TaskAppState> {
  const row = await sqlOne<{
    agent_id: string | null;
    app_id: string | null;
    lifecycle: AgentLifecycle | null;
    health: AppHealth | null;
  }>(
    em,
    `select twa.workspace_agent_id as agent_id, twa.workspace_app_id as app_id,
            wa.lifecycle_state as lifecycle, app.health
       from task_workspace_apps twa
       left join workspace_agents wa on wa.id = twa.workspace_agent_id
       left join workspace_apps app on app.id = twa.workspace_app_id
      where twa.task_id = ?
      order by twa.workspace_build_number desc
      limit 1`,
    [taskId],
  );
  return {
    agentId: row?.agent_id ?? null,
    appId: row?.app_id ?? null,
    agentLifecycle: row?.agent_id ? row.lifecycle : null,
    appHealth: row?.app_id ? row.health : null,
  };
}

/** The state of an existing task, or null when there is no task with this id. */
export async function loadTaskState(em: EntityManager, taskId: string): Promise<TaskRecordsState | null> {
  const task = await sqlOne<{
    workspace_id: string | null;
    deleted: boolean;
    template_version_id: string;
    host_id: string | null;
  }>(
    em,
    `select t.workspace_id, t.deleted_at is not null as deleted, t.template_version_id, w.host_id
       from tasks t left join workspaces w on w.id = t.workspace_id
      where t.id = ?`,
    [taskId],
  );
  if (!task) return null;
  if (!task.workspace_id) {
    throw businessFailure('TaskRecordsIncomplete', `Task ${taskId} has no workspace; it cannot be managed.`);
  }
  const builds = await sql<{
    id: string;
    build_number: number;
    transition: BuildTransition;
    job_status: JobStatus;
    reason: string;
  }>(
    em,
    `(select id, build_number, transition, job_status, reason from workspace_builds
       where workspace_id = ? order by build_number desc limit 1)
     union all
     (select id, build_number, transition, job_status, reason from workspace_builds
       where workspace_id = ? and build_number = 1)`,
    [task.workspace_id, task.workspace_id],
  );
  const latest = builds[0];
  if (!latest) {
    throw businessFailure('TaskRecordsIncomplete', `Task ${taskId} has a workspace without builds; it cannot be managed.`);
  }
  const first = builds[1] ?? latest;
  return {
    created: { taskId, workspaceId: task.workspace_id, buildId: first.id },
    deleted: task.deleted,
    latestBuild: {
      buildId: latest.id,
      buildNumber: latest.build_number,
      transition: latest.transition,
      jobStatus: latest.job_status,
      reason: latest.reason,
    },
    hostId: task.host_id,
    settings: await loadTaskSettings(em, task.template_version_id),
    ...(await loadTaskAppState(em, taskId)),
  };
}
