import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { BuildTransition, JobStatus } from '../domain/task-status';
import type { CreateBuildInput } from '../workflows/contracts';
import { sql, sqlOne } from './sql';

// Workspace builds as the task workflow's activities write them: build N+1 with its
// task_workspace_apps row, its job moving pending → running → succeeded | failed (each step a
// guarded UPDATE, so a retried activity changes nothing the first run already did), the agent row
// of a start build and the apps the provisioner produced.

export interface BuildRow {
  id: string;
  workspace_id: string;
  build_number: number;
  transition: BuildTransition;
  job_status: JobStatus;
  task_id: string;
  definition: unknown;
}

/** A build with its task and its template version's definition; `lock` takes the build row for update. */
export function loadBuild(em: EntityManager, buildId: string, lock = false): Promise<BuildRow | null> {
  return sqlOne<BuildRow>(
    em,
    `select b.id, b.workspace_id, b.build_number, b.transition, b.job_status, t.id as task_id, tv.definition
       from workspace_builds b
       join tasks t on t.workspace_id = b.workspace_id
       join template_versions tv on tv.id = b.template_version_id
      where b.id = ?${lock ? ' for update of b' : ''}`,
    [buildId],
  );
}

/** The build a workspace already has under `buildNumber`, with the job id that wrote it. */
export function buildByNumber(tx: EntityManager, workspaceId: string, buildNumber: number): Promise<{ id: string; job_id: string } | null> {
  return sqlOne(tx, 'select id, job_id from workspace_builds where workspace_id = ? and build_number = ?', [workspaceId, buildNumber]);
}

/** Whether the task is deleted and whether its workspace is, locking the task row. */
export function lockTaskForBuild(tx: EntityManager, taskId: string, workspaceId: string): Promise<{ deleted: boolean; workspace_deleted: boolean } | null> {
  return sqlOne(
    tx,
    `select t.deleted_at is not null as deleted, coalesce(w.deleted, true) as workspace_deleted
       from tasks t left join workspaces w on w.id = ? where t.id = ? for update of t`,
    [workspaceId, taskId],
  );
}

/**
 * Inserts build N+1 (job pending, same template version as the build before) with its
 * task_workspace_apps row, and touches the workspace — one statement; null without a build before
 * (the caller's transaction then rolls the rest back).
 */
export async function insertBuild(tx: EntityManager, input: CreateBuildInput): Promise<string | null> {
  const now = new Date();
  const row = await sqlOne<{ id: string }>(
    tx,
    `with build as (
       insert into workspace_builds (id, workspace_id, build_number, transition, reason, template_version_id,
                                     template_version_preset_id, initiator_id, job_id, job_status, created_at, updated_at)
       select ?, ?, ?, ?, ?, prev.template_version_id, prev.template_version_preset_id, ?, ?, 'pending', ?, ?
         from (select template_version_id, template_version_preset_id from workspace_builds
                where workspace_id = ? order by build_number desc limit 1) prev
       returning id
     ), app as (
       insert into task_workspace_apps (task_id, workspace_build_number) values (?, ?) on conflict do nothing
     ), touched as (
       update workspaces set updated_at = ? where id = ?
     )
     select id from build`,
    [randomUUID(), input.workspaceId, input.buildNumber, input.transition, input.reason, input.initiatorId, input.operationKey,
      now, now, input.workspaceId, input.taskId, input.buildNumber, now, input.workspaceId],
  );
  return row?.id ?? null;
}

/** pending → running, and the agent row of a start build (lifecycle "created"), once — one statement. */
export async function startBuildJob(tx: EntityManager, buildId: string, agent: { id: string; name: string; tokenHash: string } | null): Promise<void> {
  const started = `update workspace_builds set job_status = 'running', job_started_at = now(), updated_at = now()
      where id = ? and job_status = 'pending'`;
  if (!agent) {
    await sql(tx, started, [buildId]);
    return;
  }
  await sql(
    tx,
    `with started as (${started})
     insert into workspace_agents (id, build_id, name, lifecycle_state, auth_token_hash, created_at, updated_at)
     values (?, ?, ?, 'created', ?, now(), now()) on conflict (id) do nothing`,
    [buildId, agent.id, buildId, agent.name, agent.tokenHash],
  );
}

export interface NewApp {
  slug: string;
  displayName: string;
  command: string | null;
  url: string;
  /** the health an app starts with: initializing (healthchecked) or disabled; later only reports change it */
  health: string;
  healthcheck: unknown;
}

/** Records an app of the agent; a retry keeps the first row (and any health reported since), refreshing only its shape. */
export async function upsertApp(tx: EntityManager, agentId: string, app: NewApp): Promise<string> {
  const [row] = await sql<{ id: string }>(
    tx,
    `insert into workspace_apps (id, agent_id, slug, display_name, command, url, health, healthcheck, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, now(), now())
     on conflict (agent_id, slug) do update set display_name = excluded.display_name, command = excluded.command,
       url = excluded.url, healthcheck = excluded.healthcheck, updated_at = now()
     returning id`,
    [randomUUID(), agentId, app.slug, app.displayName, app.command, app.url, app.health,
      app.healthcheck ? JSON.stringify(app.healthcheck) : null],
  );
  return row!.id;
}

/** Names the build's task agent and task app in its task_workspace_apps row. */
export async function linkTaskApp(tx: EntityManager, taskId: string, buildNumber: number, agentId: string, appId: string | null): Promise<void> {
  await sql(
    tx,
    `update task_workspace_apps set workspace_agent_id = ?, workspace_app_id = ?
      where task_id = ? and workspace_build_number = ?`,
    [agentId, appId, taskId, buildNumber],
  );
}

/** The job succeeded; the workspace remembers the host it runs on. Returns that host. One statement. */
export async function completeBuildJob(tx: EntityManager, build: BuildRow, hostId: string | null): Promise<string | null> {
  const row = await sqlOne<{ host_id: string | null }>(
    tx,
    `with done as (
       update workspace_builds set job_status = 'succeeded', job_completed_at = now(), updated_at = now()
        where id = ? and job_status in ('pending', 'running')
     )
     update workspaces set host_id = coalesce(?, host_id), updated_at = now() where id = ? returning host_id`,
    [build.id, hostId, build.workspace_id],
  );
  return row?.host_id ?? null;
}

/** The job failed: its error is kept on the build (the task reads `error`, §2.1). */
export async function failBuildJob(em: EntityManager, buildId: string, error: string): Promise<void> {
  await sql(
    em,
    `update workspace_builds set job_status = 'failed', job_error = ?, job_completed_at = now(), updated_at = now()
      where id = ? and job_status in ('pending', 'running')`,
    [error.slice(0, 4000), buildId],
  );
}

export interface BuildContextRow {
  workspace_id: string;
  workspace_name: string;
  owner_name: string;
  build_number: number;
  transition: BuildTransition;
  definition: unknown;
  task_id: string | null;
  agent_id: string | null;
  agent_name: string | null;
}

/** Everything a provisioner driver is told about a build. */
export function buildContextRow(em: EntityManager, buildId: string): Promise<BuildContextRow | null> {
  return sqlOne<BuildContextRow>(
    em,
    `select b.workspace_id, w.name as workspace_name, u.username as owner_name, b.build_number, b.transition,
            tv.definition, t.id as task_id, a.id as agent_id, a.name as agent_name
       from workspace_builds b
       join workspaces w on w.id = b.workspace_id
       join users u on u.id = w.owner_id
       join template_versions tv on tv.id = b.template_version_id
       left join lateral (select id from tasks where workspace_id = w.id
                           order by deleted_at desc nulls first, created_at desc limit 1) t on true
       left join lateral (select id, name from workspace_agents where build_id = b.id
                           order by created_at limit 1) a on true
      where b.id = ?`,
    [buildId],
  );
}

export interface HostWorkspaceRow {
  deleted: boolean;
  should_run: boolean;
  latest_build_id: string;
  latest_job_status: string;
}

/** Whether a workspace should run on `hostId` now (or is deleted), with its latest build. */
export function hostWorkspace(em: EntityManager, workspaceId: string, hostId: string): Promise<HostWorkspaceRow | null> {
  return sqlOne<HostWorkspaceRow>(
    em,
    `select w.deleted, (not w.deleted and coalesce(w.host_id, ?) = ? and b.transition = 'start'
             and b.job_status in ('pending', 'running', 'succeeded')) as should_run,
            b.id as latest_build_id, b.job_status as latest_job_status
       from workspaces w
       join lateral (select id, transition, job_status from workspace_builds where workspace_id = w.id
                      order by build_number desc limit 1) b on true
      where w.id = ?`,
    [hostId, hostId, workspaceId],
  );
}

/** The agent and app a build's task_workspace_apps row names. */
export function taskAppOfBuild(
  em: EntityManager,
  taskId: string,
  buildId: string,
): Promise<{ workspace_id: string; agent_id: string | null; app_id: string | null } | null> {
  return sqlOne(
    em,
    `select b.workspace_id, twa.workspace_agent_id as agent_id, twa.workspace_app_id as app_id
       from workspace_builds b
       join task_workspace_apps twa on twa.task_id = ? and twa.workspace_build_number = b.build_number
      where b.id = ?`,
    [taskId, buildId],
  );
}
