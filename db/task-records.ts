import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { AgentLifecycle, AppHealth, BuildTransition, JobStatus } from '../domain/task-status';
import type { TaskWorkflowInput } from '../workflows/contracts';
import { sql, sqlOne } from './sql';

// The rows that make a task exist and stop existing — tasks, workspaces, the first build and its
// task_workspace_apps row — written by the task workflow's activities only, and read back in the
// shape the workflow keeps in memory.

/** Inserts the task, its workspace (named after the task), build 1 (start, pending) and its task_workspace_apps row. */
export async function insertTaskRecords(tx: EntityManager, input: TaskWorkflowInput, buildId: string): Promise<void> {
  const now = new Date();
  await sql(
    tx,
    `insert into tasks (id, organization_id, owner_id, name, display_name, workspace_id, template_version_id,
                        template_parameters, prompt, idempotency_key, created_at)
     values (?, ?, ?, ?, ?, null, ?, '{}'::jsonb, ?, ?, ?)`,
    [input.taskId, input.organizationId, input.ownerId, input.name, input.displayName, input.templateVersionId,
      input.prompt, input.idempotencyKey, now],
  );
  await sql(
    tx,
    `insert into workspaces (id, organization_id, owner_id, template_id, name, host_id, deleted, created_at, updated_at)
     values (?, ?, ?, ?, ?, null, false, ?, ?)`,
    [input.workspaceId, input.organizationId, input.ownerId, input.templateId, input.name, now, now],
  );
  await sql(tx, 'update tasks set workspace_id = ? where id = ? and workspace_id is null', [input.workspaceId, input.taskId]);
  await sql(
    tx,
    `insert into workspace_builds (id, workspace_id, build_number, transition, reason, template_version_id,
                                   template_version_preset_id, initiator_id, job_id, job_status, created_at, updated_at)
     values (?, ?, 1, 'start', 'initiator', ?, ?, ?, ?, 'pending', ?, ?)`,
    [buildId, input.workspaceId, input.templateVersionId, input.presetId, input.initiatorId, randomUUID(), now, now],
  );
  await sql(tx, 'insert into task_workspace_apps (task_id, workspace_build_number) values (?, 1)', [input.taskId]);
}

/** The start arguments of a task's workflow, as its records hold them; null when it has no workspace to run. */
export async function storedTaskInput(em: EntityManager, taskId: string): Promise<Omit<TaskWorkflowInput, 'initiatorId'> | null> {
  const row = await sqlOne<{
    id: string; workspace_id: string | null; organization_id: string; owner_id: string; username: string;
    template_id: string | null; template_name: string | null; template_version_id: string; preset_id: string | null;
    name: string; display_name: string; prompt: string; idempotency_key: string | null;
  }>(
    em,
    `select t.id, t.workspace_id, t.organization_id, t.owner_id, u.username, w.template_id, tpl.name as template_name,
       t.template_version_id, first_build.template_version_preset_id as preset_id, t.name, t.display_name, t.prompt,
       t.idempotency_key
     from tasks t
     join users u on u.id = t.owner_id
     left join workspaces w on w.id = t.workspace_id
     left join templates tpl on tpl.id = w.template_id
     left join workspace_builds first_build on first_build.workspace_id = t.workspace_id and first_build.build_number = 1
     where t.id = ?`,
    [taskId],
  );
  if (!row || !row.workspace_id || !row.template_id) return null;
  return {
    taskId: row.id,
    workspaceId: row.workspace_id,
    organizationId: row.organization_id,
    ownerId: row.owner_id,
    ownerName: row.username,
    templateId: row.template_id,
    templateName: row.template_name ?? '',
    templateVersionId: row.template_version_id,
    presetId: row.preset_id,
    name: row.name,
    displayName: row.display_name,
    prompt: row.prompt,
    idempotencyKey: row.idempotency_key,
  };
}

export interface TaskRow {
  workspace_id: string | null;
  deleted: boolean;
  template_version_id: string;
  host_id: string | null;
}

export function taskRow(em: EntityManager, taskId: string, lock = false): Promise<TaskRow | null> {
  return sqlOne<TaskRow>(
    em,
    `select t.workspace_id, t.deleted_at is not null as deleted, t.template_version_id, w.host_id
       from tasks t left join workspaces w on w.id = t.workspace_id
      where t.id = ?${lock ? ' for update of t' : ''}`,
    [taskId],
  );
}

export interface BuildSummaryRow {
  id: string;
  build_number: number;
  transition: BuildTransition;
  job_status: JobStatus;
  reason: string;
}

/** The latest build of a workspace and its first (the same row when there is one build). */
export async function latestAndFirstBuild(em: EntityManager, workspaceId: string): Promise<{ latest: BuildSummaryRow; first: BuildSummaryRow } | null> {
  const builds = await sql<BuildSummaryRow>(
    em,
    `(select id, build_number, transition, job_status, reason from workspace_builds
       where workspace_id = ? order by build_number desc limit 1)
     union all
     (select id, build_number, transition, job_status, reason from workspace_builds
       where workspace_id = ? and build_number = 1)`,
    [workspaceId, workspaceId],
  );
  const latest = builds[0];
  return latest ? { latest, first: builds[1] ?? latest } : null;
}

export async function templateDefinition(em: EntityManager, templateVersionId: string): Promise<unknown> {
  return (await sqlOne<{ definition: unknown }>(em, 'select definition from template_versions where id = ?', [templateVersionId]))?.definition ?? null;
}

/** The latest task_workspace_apps row with its agent's lifecycle and its app's health. */
export async function latestAgentState(
  em: EntityManager,
  taskId: string,
): Promise<{ agentId: string | null; appId: string | null; agentLifecycle: AgentLifecycle | null; appHealth: AppHealth | null }> {
  const row = await sqlOne<{ agent_id: string | null; app_id: string | null; lifecycle: AgentLifecycle | null; health: AppHealth | null }>(
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

/** Soft-deletes a task and removes its snapshot; a task already deleted is left as it is. */
export async function softDeleteTask(tx: EntityManager, taskId: string): Promise<void> {
  await sql(tx, 'update tasks set deleted_at = now() where id = ? and deleted_at is null', [taskId]);
  await sql(tx, 'delete from task_snapshots where task_id = ?', [taskId]);
}

/** The workspace is gone: its name is free again. */
export async function markWorkspaceDeleted(tx: EntityManager, workspaceId: string): Promise<void> {
  await sql(tx, 'update workspaces set deleted = true, updated_at = now() where id = ? and not deleted', [workspaceId]);
}
