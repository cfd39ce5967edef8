import type { EntityManager } from '@mikro-orm/postgresql';
import { goTime, rfc3339, sql, sqlOne } from './sql';
import { ownerScopeSql, type Caller } from './scope';
import {
  APP_STATUS_COLUMNS,
  loadAgents,
  toAppStatus,
  type AgentRecord,
  type AppStatusRecord,
  type AppStatusSqlRow,
} from './workspace-agents';
import type { BuildTransition, JobStatus } from '../domain/task-status';

// Read model of workspaces and builds for the Coder Workspace / WorkspaceBuild objects. Builds are
// loaded in batches (one statement for the builds, one each for their agents, apps and app
// statuses), so a build list costs four queries whatever its length. A workspace or build is read
// only on behalf of a caller, and only when the caller may see it (its owner, an admin of its
// organization, a site owner).

export type { AgentRecord, AppRecord, AppStatusRecord } from './workspace-agents';

export interface BuildRecord {
  id: string;
  buildNumber: number;
  transition: BuildTransition;
  reason: string;
  workspaceId: string;
  workspaceName: string;
  workspaceOwnerId: string;
  workspaceOwnerUsername: string;
  workspaceOwnerAvatarUrl: string;
  organizationId: string;
  initiatorId: string;
  initiatorUsername: string;
  templateVersionId: string;
  templateVersionName: string;
  templateVersionPresetId: string | null;
  hasAiTask: boolean;
  provisioner: string;
  templateId: string;
  templateName: string;
  templateDisplayName: string;
  templateIcon: string;
  jobId: string;
  jobStatus: JobStatus;
  jobError: string | null;
  jobStartedAt: string | null;
  jobCompletedAt: string | null;
  createdAt: string;
  updatedAt: string;
  agents: AgentRecord[];
}

const BUILD_SELECT = `
select
  b.id, b.build_number, b.transition, b.reason, b.workspace_id, w.name as workspace_name,
  w.owner_id as workspace_owner_id, ou.username as owner_username, ou.avatar_url as owner_avatar_url,
  w.organization_id, b.initiator_id, iu.username as initiator_username,
  b.template_version_id, tv.name as template_version_name, b.template_version_preset_id,
  tv.has_ai_task, coalesce(tv.definition->>'provisioner', '') as provisioner,
  tpl.id as template_id, tpl.name as template_name, tpl.display_name as template_display_name, tpl.icon as template_icon,
  b.job_id, b.job_status, b.job_error,
  ${rfc3339('b.job_started_at')} as job_started_at, ${rfc3339('b.job_completed_at')} as job_completed_at,
  ${rfc3339('b.created_at')} as created_at, ${rfc3339('b.updated_at')} as updated_at
from workspace_builds b
join workspaces w on w.id = b.workspace_id
join users ou on ou.id = w.owner_id
join users iu on iu.id = b.initiator_id
join template_versions tv on tv.id = b.template_version_id
join templates tpl on tpl.id = w.template_id`;

interface BuildSqlRow {
  id: string;
  build_number: number;
  transition: BuildTransition;
  reason: string;
  workspace_id: string;
  workspace_name: string;
  workspace_owner_id: string;
  owner_username: string;
  owner_avatar_url: string;
  organization_id: string;
  initiator_id: string;
  initiator_username: string;
  template_version_id: string;
  template_version_name: string;
  template_version_preset_id: string | null;
  has_ai_task: boolean;
  provisioner: string;
  template_id: string;
  template_name: string;
  template_display_name: string;
  template_icon: string;
  job_id: string;
  job_status: JobStatus;
  job_error: string | null;
  job_started_at: string | null;
  job_completed_at: string | null;
  created_at: string;
  updated_at: string;
}

async function withAgents(em: EntityManager, rows: BuildSqlRow[]): Promise<BuildRecord[]> {
  const agents = await loadAgents(em, rows.map((r) => r.id));
  return rows.map((r) => ({
    id: r.id,
    buildNumber: r.build_number,
    transition: r.transition,
    reason: r.reason,
    workspaceId: r.workspace_id,
    workspaceName: r.workspace_name,
    workspaceOwnerId: r.workspace_owner_id,
    workspaceOwnerUsername: r.owner_username,
    workspaceOwnerAvatarUrl: r.owner_avatar_url,
    organizationId: r.organization_id,
    initiatorId: r.initiator_id,
    initiatorUsername: r.initiator_username,
    templateVersionId: r.template_version_id,
    templateVersionName: r.template_version_name,
    templateVersionPresetId: r.template_version_preset_id,
    hasAiTask: r.has_ai_task,
    provisioner: r.provisioner,
    templateId: r.template_id,
    templateName: r.template_name,
    templateDisplayName: r.template_display_name,
    templateIcon: r.template_icon,
    jobId: r.job_id,
    jobStatus: r.job_status,
    jobError: r.job_error,
    jobStartedAt: goTime(r.job_started_at),
    jobCompletedAt: goTime(r.job_completed_at),
    createdAt: goTime(r.created_at),
    updatedAt: goTime(r.updated_at),
    agents: agents.get(r.id) ?? [],
  }));
}

function workspaceScope(caller: Caller, bindings: unknown[]): string {
  const scoped = ownerScopeSql(caller, { owner: 'w.owner_id', organization: 'w.organization_id' });
  bindings.push(...scoped.params);
  return scoped.sql;
}

/** A build, if the caller may see its workspace. */
export async function getBuild(em: EntityManager, caller: Caller, buildId: string): Promise<BuildRecord | null> {
  const bindings: unknown[] = [buildId];
  const rows = await sql<BuildSqlRow>(em, `${BUILD_SELECT} where b.id = ? and ${workspaceScope(caller, bindings)}`, bindings);
  return (await withAgents(em, rows))[0] ?? null;
}

/** Builds of a workspace the caller may see, newest first. */
export async function listBuilds(
  em: EntityManager,
  caller: Caller,
  workspaceId: string,
  page: { limit?: number; offset?: number } = {},
): Promise<BuildRecord[]> {
  const bindings: unknown[] = [workspaceId];
  let text = `${BUILD_SELECT} where b.workspace_id = ? and ${workspaceScope(caller, bindings)} order by b.build_number desc`;
  if (page.limit !== undefined) {
    text += ' limit ?';
    bindings.push(page.limit);
  }
  if (page.offset !== undefined && page.offset > 0) {
    text += ' offset ?';
    bindings.push(page.offset);
  }
  return withAgents(em, await sql<BuildSqlRow>(em, text, bindings));
}

export interface WorkspaceRecord {
  id: string;
  name: string;
  ownerId: string;
  ownerUsername: string;
  ownerAvatarUrl: string;
  organizationId: string;
  organizationName: string;
  templateId: string;
  templateName: string;
  templateDisplayName: string;
  templateIcon: string;
  templateActiveVersionId: string | null;
  deleted: boolean;
  createdAt: string;
  updatedAt: string;
  /** The live task on this workspace, if any. */
  taskId: string | null;
  latestBuild: BuildRecord | null;
  latestAppStatus: AppStatusRecord | null;
}

interface WorkspaceSqlRow {
  id: string; name: string; owner_id: string; owner_username: string; owner_avatar_url: string;
  organization_id: string; organization_name: string; template_id: string; template_name: string;
  template_display_name: string; template_icon: string; template_active_version_id: string | null;
  deleted: boolean; created_at: string; updated_at: string; task_id: string | null; latest_build_id: string | null;
}

/**
 * A workspace with its latest build, if the caller may see it (deleted workspaces included: callers
 * decide what to show).
 */
export async function getWorkspace(em: EntityManager, caller: Caller, workspaceId: string): Promise<WorkspaceRecord | null> {
  const bindings: unknown[] = [workspaceId];
  const scope = workspaceScope(caller, bindings);
  const row = await sqlOne<WorkspaceSqlRow>(
    em,
    `select w.id, w.name, w.owner_id, u.username as owner_username, u.avatar_url as owner_avatar_url,
       w.organization_id, o.name as organization_name, w.template_id, tpl.name as template_name,
       tpl.display_name as template_display_name, tpl.icon as template_icon,
       tpl.active_version_id as template_active_version_id, w.deleted,
       ${rfc3339('w.created_at')} as created_at, ${rfc3339('w.updated_at')} as updated_at,
       (select t.id from tasks t where t.workspace_id = w.id and t.deleted_at is null
        order by t.created_at desc limit 1) as task_id,
       (select b.id from workspace_builds b where b.workspace_id = w.id
        order by b.build_number desc limit 1) as latest_build_id
     from workspaces w
     join users u on u.id = w.owner_id
     join organizations o on o.id = w.organization_id
     join templates tpl on tpl.id = w.template_id
     where w.id = ? and ${scope}`,
    bindings,
  );
  if (!row) return null;
  const [latestBuild, status] = await Promise.all([
    row.latest_build_id ? getBuild(em, caller, row.latest_build_id) : Promise.resolve(null),
    sqlOne<AppStatusSqlRow>(
      em,
      `select ${APP_STATUS_COLUMNS} from workspace_app_statuses s
       where s.workspace_id = ? order by s.created_at desc, s.id desc limit 1`,
      [workspaceId],
    ),
  ]);
  return {
    id: row.id,
    name: row.name,
    ownerId: row.owner_id,
    ownerUsername: row.owner_username,
    ownerAvatarUrl: row.owner_avatar_url,
    organizationId: row.organization_id,
    organizationName: row.organization_name,
    templateId: row.template_id,
    templateName: row.template_name,
    templateDisplayName: row.template_display_name,
    templateIcon: row.template_icon,
    templateActiveVersionId: row.template_active_version_id,
    deleted: row.deleted,
    createdAt: goTime(row.created_at),
    updatedAt: goTime(row.updated_at),
    taskId: row.task_id,
    latestBuild,
    latestAppStatus: status ? toAppStatus(status) : null,
  };
}

/** Whether the workspace row exists (deleted workspaces included). */
export async function workspaceExists(em: EntityManager, workspaceId: string): Promise<boolean> {
  return (await sqlOne(em, 'select 1 from workspaces where id = ?', [workspaceId])) !== null;
}

/** The owner of a workspace, or null when there is no such workspace. */
export async function workspaceOwnerId(em: EntityManager, workspaceId: string): Promise<string | null> {
  return (await sqlOne<{ owner_id: string }>(em, 'select owner_id from workspaces where id = ?', [workspaceId]))?.owner_id ?? null;
}
