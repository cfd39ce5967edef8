import type { EntityManager } from '@mikro-orm/postgresql';
import { goTime, sql, sqlOne, rfc3339 } from './sql';
import type { AgentLifecycle, AppHealth, BuildTransition, JobStatus, TaskStatus } from '../domain/task-status';
import { ownerScopeSql, type Caller, type ListScope } from './scope';
import { TASK_FROM } from './task-from';

// The task read model. Every read goes through the tasks_with_status view (status computed in one
// place, so a status filter and a single read agree by construction), and one statement brings
// everything a Coder Task object needs: workspace, template, the workspace's latest build, its
// latest app status and the task agent's state. A list is therefore one query, never N+1. Every
// read takes the caller and shows only the tasks they may see.

export interface TaskRecord {
  id: string;
  organizationId: string;
  ownerId: string;
  ownerUsername: string;
  ownerAvatarUrl: string;
  name: string;
  displayName: string;
  workspaceId: string | null;
  templateVersionId: string;
  prompt: string;
  idempotencyKey: string | null;
  status: TaskStatus;
  createdAt: string;
  /** From the latest task_workspace_apps row. */
  workspaceBuildNumber: number | null;
  workspaceAgentId: string | null;
  workspaceAgentLifecycle: AgentLifecycle | null;
  workspaceAppId: string | null;
  workspaceAppHealth: AppHealth | null;
  /** Null when the workspace row is missing. */
  workspace: {
    name: string;
    templateId: string;
    templateName: string;
    templateDisplayName: string;
    templateIcon: string;
    updatedAt: string;
  } | null;
  latestBuild: { id: string; transition: BuildTransition; jobStatus: JobStatus; createdAt: string } | null;
  latestAppStatus: { state: string; message: string; uri: string | null; createdAt: string } | null;
  /** The task agent as found among the latest build's agents; null when it is not there. */
  agent: { lifecycle: AgentLifecycle; firstConnectedAt: string | null } | null;
}

interface TaskSqlRow {
  id: string;
  organization_id: string;
  owner_id: string;
  owner_username: string;
  owner_avatar_url: string;
  name: string;
  display_name: string;
  workspace_id: string | null;
  template_version_id: string;
  prompt: string;
  idempotency_key: string | null;
  status: TaskStatus;
  created_at: string;
  workspace_build_number: number | null;
  workspace_agent_id: string | null;
  workspace_agent_lifecycle_state: AgentLifecycle | null;
  workspace_app_id: string | null;
  workspace_app_health: AppHealth | null;
  w_name: string | null;
  w_template_id: string | null;
  w_updated_at: string | null;
  tpl_name: string | null;
  tpl_display_name: string | null;
  tpl_icon: string | null;
  lb_id: string | null;
  lb_transition: BuildTransition | null;
  lb_job_status: JobStatus | null;
  lb_created_at: string | null;
  las_state: string | null;
  las_message: string | null;
  las_uri: string | null;
  las_created_at: string | null;
  ag_lifecycle: AgentLifecycle | null;
  ag_first_connected_at: string | null;
}

const TASK_COLUMNS = `
  t.id, t.organization_id, t.owner_id, t.owner_username, t.owner_avatar_url, t.name, t.display_name,
  t.workspace_id, t.template_version_id, t.prompt, t.idempotency_key, t.status,
  ${rfc3339('t.created_at')} as created_at,
  t.workspace_build_number, t.workspace_agent_id, t.workspace_agent_lifecycle_state,
  t.workspace_app_id, t.workspace_app_health,
  w.name as w_name, w.template_id as w_template_id, ${rfc3339('w.updated_at')} as w_updated_at,
  tpl.name as tpl_name, tpl.display_name as tpl_display_name, tpl.icon as tpl_icon,
  lb.id as lb_id, lb.transition as lb_transition, lb.job_status as lb_job_status,
  ${rfc3339('lb.created_at')} as lb_created_at,
  las.state as las_state, las.message as las_message, las.uri as las_uri,
  ${rfc3339('las.created_at')} as las_created_at,
  ag.lifecycle_state as ag_lifecycle, ${rfc3339('ag.first_connected_at')} as ag_first_connected_at`;

const TASK_SELECT = `select ${TASK_COLUMNS} ${TASK_FROM}`;

function toRecord(r: TaskSqlRow): TaskRecord {
  return {
    id: r.id,
    organizationId: r.organization_id,
    ownerId: r.owner_id,
    ownerUsername: r.owner_username,
    ownerAvatarUrl: r.owner_avatar_url,
    name: r.name,
    displayName: r.display_name,
    workspaceId: r.workspace_id,
    templateVersionId: r.template_version_id,
    prompt: r.prompt,
    idempotencyKey: r.idempotency_key,
    status: r.status,
    createdAt: goTime(r.created_at),
    workspaceBuildNumber: r.workspace_build_number,
    workspaceAgentId: r.workspace_agent_id,
    workspaceAgentLifecycle: r.workspace_agent_lifecycle_state,
    workspaceAppId: r.workspace_app_id,
    workspaceAppHealth: r.workspace_app_health,
    workspace:
      r.w_name === null
        ? null
        : {
            name: r.w_name,
            templateId: r.w_template_id ?? '',
            templateName: r.tpl_name ?? '',
            templateDisplayName: r.tpl_display_name ?? '',
            templateIcon: r.tpl_icon ?? '',
            updatedAt: goTime(r.w_updated_at ?? ''),
          },
    latestBuild:
      r.lb_id === null || r.lb_transition === null || r.lb_job_status === null
        ? null
        : { id: r.lb_id, transition: r.lb_transition, jobStatus: r.lb_job_status, createdAt: goTime(r.lb_created_at ?? '') },
    latestAppStatus:
      r.las_state === null
        ? null
        : { state: r.las_state, message: r.las_message ?? '', uri: r.las_uri, createdAt: goTime(r.las_created_at ?? '') },
    agent: r.ag_lifecycle === null ? null : { lifecycle: r.ag_lifecycle, firstConnectedAt: goTime(r.ag_first_connected_at) },
  };
}

function scopeSql(scope: Caller | ListScope, bindings: unknown[]): string {
  const scoped = ownerScopeSql(scope, { owner: 't.owner_id', organization: 't.organization_id' });
  bindings.push(...scoped.params);
  return scoped.sql;
}

async function getOne(em: EntityManager, caller: Caller, where: string, params: unknown[]): Promise<TaskRecord | null> {
  const bindings = [...params];
  const row = await sqlOne<TaskSqlRow>(em, `${TASK_SELECT} where ${where} and ${scopeSql(caller, bindings)}`, bindings);
  return row ? toRecord(row) : null;
}

/** By id only (§3.1: a UUID is not scoped to {user}); null when missing, deleted or not the caller's to see. */
export function getTaskById(em: EntityManager, caller: Caller, id: string): Promise<TaskRecord | null> {
  return getOne(em, caller, 't.id = ?', [id]);
}

/**
 * By id, telling a task the caller may not see ('hidden') from one that does not exist (null):
 * a UUID that names a hidden task is 404 without falling through to a lookup by name (§3.1).
 */
export async function findTaskById(em: EntityManager, caller: Caller, id: string): Promise<TaskRecord | 'hidden' | null> {
  const bindings: unknown[] = [];
  const visible = scopeSql(caller, bindings);
  const row = await sqlOne<TaskSqlRow & { visible: boolean }>(em, `select ${visible} as visible, ${TASK_COLUMNS} ${TASK_FROM} where t.id = ?`, [
    ...bindings,
    id,
  ]);
  if (!row) return null;
  return row.visible ? toRecord(row) : 'hidden';
}

/** Non-deleted task of `ownerId` whose name matches case-insensitively, if the caller may see it. */
export function getTaskByOwnerAndName(em: EntityManager, caller: Caller, ownerId: string, name: string): Promise<TaskRecord | null> {
  return getOne(em, caller, 't.owner_id = ? and lower(t.name) = lower(?)', [ownerId, name]);
}

/** The task an earlier create with this Idempotency-Key made, with whether it has been deleted since. */
export async function taskByIdempotencyKey(em: EntityManager, ownerId: string, key: string): Promise<{ id: string; deleted: boolean } | null> {
  return sqlOne<{ id: string; deleted: boolean }>(
    em,
    'select id, deleted_at is not null as deleted from tasks where owner_id = ? and idempotency_key = ?',
    [ownerId, key],
  );
}

export interface ListTasksOptions {
  scope: ListScope;
  ownerId?: string;
  organizationId?: string;
  status?: TaskStatus;
  /** Beyond Coder: without limit/offset/afterId the whole list is returned, as Coder does. */
  limit?: number;
  offset?: number;
  /** Keyset pagination: tasks listed after this one (older, in created_at DESC order). */
  afterId?: string;
}

/** The filters of a list, without its page. */
type TaskFilters = Omit<ListTasksOptions, 'limit' | 'offset' | 'afterId'>;

function filterSql(opts: TaskFilters, bindings: unknown[]): string {
  const conditions = [scopeSql(opts.scope, bindings)];
  if (opts.ownerId !== undefined) {
    conditions.push('t.owner_id = ?');
    bindings.push(opts.ownerId);
  }
  if (opts.organizationId !== undefined) {
    conditions.push('t.organization_id = ?');
    bindings.push(opts.organizationId);
  }
  if (opts.status !== undefined) {
    conditions.push('t.status = ?');
    bindings.push(opts.status);
  }
  return conditions.join(' and ');
}

/** The list statement of `opts` (newest first, ties broken by id so pages never overlap). */
function listSql(opts: ListTasksOptions, columns: string, bindings: unknown[]): string {
  let where = filterSql(opts, bindings);
  if (opts.afterId !== undefined) {
    // A cursor naming a task that is gone (or never existed) yields an empty page, not page one.
    where += ' and (t.created_at, t.id) < (select c.created_at, c.id from tasks c where c.id = ?)';
    bindings.push(opts.afterId);
  }
  let text = `select ${columns} ${TASK_FROM} where ${where} order by t.created_at desc, t.id desc`;
  if (opts.limit !== undefined) {
    text += ' limit ?';
    bindings.push(opts.limit);
  }
  if (opts.offset !== undefined && opts.offset > 0) {
    text += ' offset ?';
    bindings.push(opts.offset);
  }
  return text;
}

/** Visible non-deleted tasks, newest first. */
export async function listTasks(em: EntityManager, opts: ListTasksOptions): Promise<TaskRecord[]> {
  const bindings: unknown[] = [];
  const text = listSql(opts, TASK_COLUMNS, bindings);
  return (await sql<TaskSqlRow>(em, text, bindings)).map(toRecord);
}

function countSql(opts: TaskFilters, bindings: unknown[]): string {
  const where = filterSql(opts, bindings);
  // Only a status filter needs the view. Without one, every live task row counts once (the view's
  // joins neither add nor drop rows), and counting the table skips the per-task lookups that made
  // the count of a page grow with the whole list (bench/list-scale.ts).
  const from = opts.status === undefined ? 'tasks t where t.deleted_at is null and' : 'tasks_with_status t where';
  return `select count(*) as n from ${from} ${where}`;
}

/** How many tasks match the filters (pages ignored). */
async function countTasks(em: EntityManager, opts: TaskFilters): Promise<number> {
  const bindings: unknown[] = [];
  const row = await sqlOne<{ n: string }>(em, countSql(opts, bindings), bindings);
  return Number(row?.n ?? 0);
}

/**
 * A page and the number of all matching tasks, in one round trip: the count rides along as a
 * column of the page's rows (a second statement only when the page is empty but need not be).
 */
export async function listTasksPage(em: EntityManager, opts: ListTasksOptions): Promise<{ records: TaskRecord[]; total: number }> {
  const { limit: _limit, offset: _offset, afterId: _afterId, ...filters } = opts;
  const bindings: unknown[] = [];
  const counted = `(${countSql(filters, bindings)}) as total_count, ${TASK_COLUMNS}`;
  const rows = await sql<TaskSqlRow & { total_count: string }>(em, listSql(opts, counted, bindings), bindings);
  if (rows.length > 0) return { records: rows.map(toRecord), total: Number(rows[0]!.total_count) };
  const total = (opts.offset ?? 0) > 0 || opts.afterId !== undefined ? await countTasks(em, filters) : 0;
  return { records: [], total };
}

/**
 * The task of a workspace the caller is entitled to (its agent, or a user who may see it): the live
 * one, else the newest deleted one — its workflow may still run (a failed delete stays retryable).
 */
export async function taskIdOfWorkspace(em: EntityManager, workspaceId: string): Promise<string | null> {
  const row = await sqlOne<{ id: string }>(
    em,
    'select id from tasks where workspace_id = ? order by deleted_at desc nulls first, created_at desc limit 1',
    [workspaceId],
  );
  return row?.id ?? null;
}

/** Whom an agent's report concerns: the workspace's task (as taskIdOfWorkspace) and its latest build. */
export interface ReportTarget {
  taskId: string;
  buildNumber: number;
  transition: BuildTransition;
  /** the latest build's template version pauses the task when idle */
  autoPauses: boolean;
}

export async function reportTarget(em: EntityManager, workspaceId: string): Promise<ReportTarget | null> {
  const row = await sqlOne<{ task_id: string; build_number: number; transition: BuildTransition; auto_pauses: boolean }>(
    em,
    `select t.id as task_id, b.build_number, b.transition,
            (tv.definition #>> '{auto_pause,idle_timeout_s}') is not null as auto_pauses
       from tasks t
       join lateral (select build_number, transition, template_version_id from workspace_builds
                      where workspace_id = t.workspace_id order by build_number desc limit 1) b on true
       left join template_versions tv on tv.id = b.template_version_id
      where t.workspace_id = ?
      order by t.deleted_at desc nulls first, t.created_at desc limit 1`,
    [workspaceId],
  );
  return row && { taskId: row.task_id, buildNumber: row.build_number, transition: row.transition, autoPauses: row.auto_pauses };
}
