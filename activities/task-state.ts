import type { EntityManager } from '@mikro-orm/postgresql';
import { workspaceDefinitionSchema } from '../domain/workspace-definition';
import type { TaskAppState, TaskRecordsState, TaskSettings } from '../workflows/contracts';
import { latestAgentState, latestAndFirstBuild, taskRow, templateDefinition } from '../db/task-records';
import { businessFailure } from './deps';

// Reading a task back into the shape the workflow keeps in memory: when a workflow starts on a task
// that already exists (a retried create, a task written by a benchmark, a lost workflow), and
// whenever the workflow reads what the agent has reported.

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
  return settingsFromDefinition(await templateDefinition(em, templateVersionId));
}

/** The agent and app of the task's latest build, as reported so far. */
export function loadTaskAppState(em: EntityManager, taskId: string): Promise<TaskAppState> {
  return latestAgentState(em, taskId);
}

/** The state of an existing task, or null when there is no task with this id. */
export async function loadTaskState(em: EntityManager, taskId: string): Promise<TaskRecordsState | null> {
  const task = await taskRow(em, taskId);
  if (!task) return null;
  if (!task.workspace_id) {
    throw businessFailure('TaskRecordsIncomplete', `Task ${taskId} has no workspace; it cannot be managed.`);
  }
  const builds = await latestAndFirstBuild(em, task.workspace_id);
  if (!builds) {
    throw businessFailure('TaskRecordsIncomplete', `Task ${taskId} has a workspace without builds; it cannot be managed.`);
  }
  const { latest, first } = builds;
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
