import type { EntityManager } from '@mikro-orm/postgresql';
import { escapeLike, goTime, placeholders, rfc3339, sql, sqlOne } from './sql';
import { ownerScopeSql, type Caller, type ListScope } from './scope';
import {
  APP_STATUS_COLUMNS,
  loadAgents,
  toAppStatus,
  type AgentRecord,
  type AppStatusRecord,
  type AppStatusSqlRow,
} from './workspace-agents';
import type { BuildTransition, JobStatus } from '../domain/task-status';
import type { WorkspaceStatus } from '../domain/workspace-search';

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

const WORKSPACE_COLUMNS = `
  w.id, w.name, w.owner_id, u.username as owner_username, u.avatar_url as owner_avatar_url,
  w.organization_id, o.name as organization_name, w.template_id, tpl.name as template_name,
  tpl.display_name as template_display_name, tpl.icon as template_icon,
  tpl.active_version_id as template_active_version_id, w.deleted,
  ${rfc3339('w.created_at')} as created_at, ${rfc3339('w.updated_at')} as updated_at,
  (select t.id from tasks t where t.workspace_id = w.id and t.deleted_at is null
   order by t.created_at desc limit 1) as task_id,
  lb.id as latest_build_id`;

const WORKSPACE_FROM = `
from workspaces w
join users u on u.id = w.owner_id
join organizations o on o.id = w.organization_id
join templates tpl on tpl.id = w.template_id
left join lateral (
  select b.id, b.transition, b.job_status, b.job_error, b.job_completed_at, b.template_version_id
  from workspace_builds b where b.workspace_id = w.id order by b.build_number desc limit 1
) lb on true`;

const WORKSPACE_SELECT = `select ${WORKSPACE_COLUMNS} ${WORKSPACE_FROM}`;

/** Workspace rows with their latest builds and app statuses, in a fixed number of statements. */
async function toWorkspaceRecords(em: EntityManager, rows: WorkspaceSqlRow[]): Promise<WorkspaceRecord[]> {
  if (rows.length === 0) return [];
  const buildIds = rows.flatMap((r) => (r.latest_build_id ? [r.latest_build_id] : []));
  const workspaceIds = rows.map((r) => r.id);
  const [builds, statuses] = await Promise.all([
    buildIds.length === 0
      ? Promise.resolve([])
      : sql<BuildSqlRow>(em, `${BUILD_SELECT} where b.id in (${placeholders(buildIds.length)})`, buildIds).then((r) => withAgents(em, r)),
    sql<AppStatusSqlRow>(
      em,
      `select distinct on (s.workspace_id) ${APP_STATUS_COLUMNS} from workspace_app_statuses s
       where s.workspace_id in (${placeholders(workspaceIds.length)})
       order by s.workspace_id, s.created_at desc, s.id desc`,
      workspaceIds,
    ),
  ]);
  const buildById = new Map(builds.map((b) => [b.id, b]));
  const statusByWorkspace = new Map(statuses.map((st) => [st.workspace_id, toAppStatus(st)]));
  return rows.map((row) => ({
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
    latestBuild: (row.latest_build_id && buildById.get(row.latest_build_id)) || null,
    latestAppStatus: statusByWorkspace.get(row.id) ?? null,
  }));
}

/**
 * A workspace with its latest build, if the caller may see it (deleted workspaces included: callers
 * decide what to show).
 */
export async function getWorkspace(em: EntityManager, caller: Caller, workspaceId: string): Promise<WorkspaceRecord | null> {
  const bindings: unknown[] = [workspaceId];
  const scope = workspaceScope(caller, bindings);
  const rows = await sql<WorkspaceSqlRow>(em, `${WORKSPACE_SELECT} where w.id = ? and ${scope}`, bindings);
  return (await toWorkspaceRecords(em, rows))[0] ?? null;
}

/**
 * The workspace of an owner by name, if the caller may see it: the live one, else (when asked) the
 * most recently deleted one of that name, as Coder looks it up.
 */
export async function getWorkspaceByOwnerAndName(
  em: EntityManager,
  caller: Caller,
  ownerId: string,
  name: string,
  includeDeleted: boolean,
): Promise<WorkspaceRecord | null> {
  for (const deleted of includeDeleted ? [false, true] : [false]) {
    const bindings: unknown[] = [ownerId, name, deleted];
    const scope = workspaceScope(caller, bindings);
    const rows = await sql<WorkspaceSqlRow>(
      em,
      `${WORKSPACE_SELECT} where w.owner_id = ? and lower(w.name) = lower(?) and w.deleted = ? and ${scope}
       order by w.created_at desc limit 1`,
      bindings,
    );
    if (rows.length > 0) return (await toWorkspaceRecords(em, rows))[0] ?? null;
  }
  return null;
}

/** Filters of GET /workspaces, already resolved to ids (see api/workspaces/search.ts). */
export interface WorkspaceFilters {
  ownerId?: string;
  /** an owner username matched case-insensitively; an unknown one matches nothing */
  ownerUsername?: string;
  /** a substring of the name, case-insensitively */
  name?: string;
  templateName?: string;
  organizationId?: string;
  ids?: string[];
  status?: WorkspaceStatus;
  hasAiTask?: boolean;
  deleted: boolean;
  /** true: on the template's active version; false: not on it */
  usingActive?: boolean;
}

// A status names a latest build's transition and job status, as Coder's search defines it.
const STATUS_SQL: Record<WorkspaceStatus, string> = {
  starting: "lb.job_status = 'running' and lb.transition = 'start'",
  stopping: "lb.job_status = 'running' and lb.transition = 'stop'",
  deleting: "lb.job_status = 'running' and lb.transition = 'delete'",
  deleted: "lb.job_status = 'succeeded' and lb.transition = 'delete'",
  stopped: "lb.job_status = 'succeeded' and lb.transition = 'stop'",
  running: "lb.job_status = 'succeeded' and lb.transition = 'start'",
  pending: "lb.job_status = 'pending'",
  failed: "lb.job_status = 'failed'",
  canceling: "lb.job_status = 'canceling'",
  canceled: "lb.job_status = 'canceled'",
};

/**
 * Workspaces the caller may see that match the filters, in Coder's order (running ones first, then by
 * owner and name), with the count of all matches; `limit` 0 means no limit.
 */
export async function listWorkspaces(
  em: EntityManager,
  scope: ListScope,
  filters: WorkspaceFilters,
  page: { limit: number; offset: number },
): Promise<{ records: WorkspaceRecord[]; total: number }> {
  const bindings: unknown[] = [filters.deleted];
  const where = ['w.deleted = ?'];
  const add = (clause: string, ...values: unknown[]) => {
    where.push(clause);
    bindings.push(...values);
  };
  if (filters.ownerId !== undefined) add('w.owner_id = ?', filters.ownerId);
  if (filters.ownerUsername !== undefined) add('lower(u.username) = lower(?)', filters.ownerUsername);
  if (filters.name !== undefined) add(`w.name ilike '%' || ? || '%'`, escapeLike(filters.name));
  if (filters.templateName !== undefined) add('lower(tpl.name) = lower(?)', filters.templateName);
  if (filters.organizationId !== undefined) add('w.organization_id = ?', filters.organizationId);
  if (filters.ids !== undefined && filters.ids.length > 0) add(`w.id in (${placeholders(filters.ids.length)})`, ...filters.ids);
  if (filters.status !== undefined) where.push(`(${STATUS_SQL[filters.status]})`);
  if (filters.hasAiTask !== undefined) add('exists (select 1 from tasks t where t.workspace_id = w.id) = ?', filters.hasAiTask);
  if (filters.usingActive !== undefined) add('(lb.template_version_id = tpl.active_version_id) = ?', filters.usingActive);
  const scoped = ownerScopeSql(scope, { owner: 'w.owner_id', organization: 'w.organization_id' });
  where.push(scoped.sql);
  bindings.push(...scoped.params);
  let text = `select ${WORKSPACE_COLUMNS}, count(*) over () as total ${WORKSPACE_FROM}
    where ${where.join(' and ')}
    order by (lb.job_completed_at is not null and lb.job_error is null and lb.job_status = 'succeeded'
              and lb.transition = 'start') desc, lower(u.username), lower(w.name), w.id`;
  if (page.limit > 0) {
    text += ' limit ?';
    bindings.push(page.limit);
  }
  if (page.offset > 0) {
    text += ' offset ?';
    bindings.push(page.offset);
  }
  const rows = await sql<WorkspaceSqlRow & { total: string }>(em, text, bindings);
  if (rows.length === 0 && page.offset > 0) {
    // past the end: the count still says how many match
    const all = await listWorkspaces(em, scope, filters, { limit: 1, offset: 0 });
    return { records: [], total: all.total };
  }
  return { records: await toWorkspaceRecords(em, rows), total: rows.length > 0 ? Number(rows[0]!.total) : 0 };
}

/** Whether the workspace row exists (deleted workspaces included). */
export async function workspaceExists(em: EntityManager, workspaceId: string): Promise<boolean> {
  return (await sqlOne(em, 'select 1 from workspaces where id = ?', [workspaceId])) !== null;
}

/** The owner of a workspace, or null when there is no such workspace. */
export async function workspaceOwnerId(em: EntityManager, workspaceId: string): Promise<string | null> {
  return (await sqlOne<{ owner_id: string }>(em, 'select owner_id from workspaces where id = ?', [workspaceId]))?.owner_id ?? null;
}

/**
 * An agent with its build, and whether that build is its workspace's latest, if the caller may see
 * the agent's workspace.
 */
export async function getAgent(
  em: EntityManager,
  caller: Caller,
  agentId: string,
): Promise<{ agent: AgentRecord; build: BuildRecord; latest: boolean } | null> {
  const row = await sqlOne<{ build_id: string; latest: boolean }>(
    em,
    `select a.build_id, a.build_id = (select lb.id from workspace_builds lb where lb.workspace_id = b.workspace_id
                                      order by lb.build_number desc limit 1) as latest
     from workspace_agents a join workspace_builds b on b.id = a.build_id where a.id = ?`,
    [agentId],
  );
  const build = row ? await getBuild(em, caller, row.build_id) : null;
  const agent = build?.agents.find((a) => a.id === agentId);
  return row && build && agent ? { agent, build, latest: row.latest } : null;
}
