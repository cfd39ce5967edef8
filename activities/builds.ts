import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import { deriveAgentToken, hashAgentToken } from '../lib/agent-token';
import { workspaceDefinitionSchema } from '../domain/workspace-definition';
import type { BuildTransition, JobStatus } from '../domain/task-status';
import type { StartOutcome } from '../provisioner/driver';
import { TaskFailure, type BuildRef } from '../workflows/contracts';
import { businessFailure, forkEm, inTransaction, sql, sqlOne } from './db';
import type { ActivityDeps } from './deps';
import { softDeleteTask } from './records';
import { loadTaskAppState } from './task-state';
import type { BeginBuildResult, CompleteBuildResult, CreateBuildInput } from './types';

// A build's job moves pending → running → succeeded | failed, each step a guarded UPDATE so that a
// retried activity (or one replayed after a worker crash) changes nothing the first run already did.

export const AGENT_NAME = 'main';

/** A UUID (version 8, "custom") derived from `name`: the same name always gives the same id. */
export function namedUuid(name: string): string {
  const b = createHash('sha256').update(name).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The agent of a start build: one per build, with an id any retry recomputes. */
export function buildAgentId(buildId: string): string {
  return namedUuid(`taskd:agent:${buildId}:${AGENT_NAME}`);
}

interface BuildRow {
  id: string;
  workspace_id: string;
  build_number: number;
  transition: BuildTransition;
  job_status: JobStatus;
  task_id: string;
  definition: unknown;
}

async function loadBuild(em: EntityManager, buildId: string, lock = false): Promise<BuildRow> {
  const row = await sqlOne<BuildRow>(
    em,
    `select b.id, b.workspace_id, b.build_number, b.transition, b.job_status, t.id as task_id, tv.definition
       from workspace_builds b
       join tasks t on t.workspace_id = b.workspace_id
       join template_versions tv on tv.id = b.template_version_id
      where b.id = ?${lock ? ' for update of b' : ''}`,
    [buildId],
  );
  if (!row) throw ApplicationFailure.create({ type: 'BuildNotFound', message: `Build ${buildId} does not exist.`, nonRetryable: true });
  return row;
}

export function createBuildActivities(deps: ActivityDeps) {
  return {
    /**
     * Inserts build N+1 (job pending) with its task_workspace_apps row (agent/app NULL), once: the
     * job id is the workflow's operation key, so a retry recognises the build it already wrote.
     * A delete build soft-deletes the task in the same transaction (§3.5: gone for the API at once).
     */
    async createBuild(input: CreateBuildInput): Promise<BuildRef> {
      return inTransaction(deps, async (tx) => {
        const existing = await sqlOne<{ id: string; job_id: string }>(
          tx,
          'select id, job_id from workspace_builds where workspace_id = ? and build_number = ?',
          [input.workspaceId, input.buildNumber],
        );
        if (existing) {
          if (existing.job_id === input.operationKey) return { buildId: existing.id, buildNumber: input.buildNumber };
          throw businessFailure(TaskFailure.buildActive, 'A workspace build is already active.');
        }
        const task = await sqlOne<{ deleted: boolean; workspace_deleted: boolean }>(
          tx,
          `select t.deleted_at is not null as deleted, coalesce(w.deleted, true) as workspace_deleted
             from tasks t left join workspaces w on w.id = ? where t.id = ? for update of t`,
          [input.workspaceId, input.taskId],
        );
        // a deleted task whose delete build failed still has a workspace, which another delete may remove
        const deletable = input.transition === 'delete' && task !== null && !task.workspace_deleted;
        if (!task || (task.deleted && !deletable)) throw businessFailure(TaskFailure.taskDeleted, 'The task has been deleted.');
        const previous = await sqlOne<{ template_version_id: string; template_version_preset_id: string | null }>(
          tx,
          `select template_version_id, template_version_preset_id from workspace_builds
            where workspace_id = ? order by build_number desc limit 1`,
          [input.workspaceId],
        );
        if (!previous) throw businessFailure('TaskRecordsIncomplete', 'The task workspace has no builds.');
        const buildId = randomUUID();
        const now = new Date();
        await sql(
          tx,
          `insert into workspace_builds (id, workspace_id, build_number, transition, reason, template_version_id,
                                         template_version_preset_id, initiator_id, job_id, job_status, created_at, updated_at)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
          [buildId, input.workspaceId, input.buildNumber, input.transition, input.reason, previous.template_version_id,
            previous.template_version_preset_id, input.initiatorId, input.operationKey, now, now],
        );
        await sql(
          tx,
          'insert into task_workspace_apps (task_id, workspace_build_number) values (?, ?) on conflict do nothing',
          [input.taskId, input.buildNumber],
        );
        await sql(tx, 'update workspaces set updated_at = ? where id = ?', [now, input.workspaceId]);
        if (input.transition === 'delete') await softDeleteTask(tx, input.taskId);
        deps.log.info(
          { taskId: input.taskId, buildId, buildNumber: input.buildNumber, transition: input.transition, reason: input.reason, requestId: input.requestId },
          'workspace build queued',
        );
        return { buildId, buildNumber: input.buildNumber };
      });
    },

    /** pending → running; a start build also gets its agent row ("main", token hash derived). */
    async beginBuild(input: { buildId: string }): Promise<BeginBuildResult> {
      const em = forkEm(deps);
      const build = await loadBuild(em, input.buildId);
      const agentId = build.transition === 'start' ? buildAgentId(build.id) : null;
      const tokenHash = agentId ? hashAgentToken(await deriveAgentToken(em, agentId)) : null;
      await inTransaction(deps, async (tx) => {
        await sql(
          tx,
          `update workspace_builds set job_status = 'running', job_started_at = now(), updated_at = now()
            where id = ? and job_status = 'pending'`,
          [build.id],
        );
        if (agentId) {
          await sql(
            tx,
            `insert into workspace_agents (id, build_id, name, lifecycle_state, auth_token_hash, created_at, updated_at)
             values (?, ?, ?, 'created', ?, now(), now()) on conflict (id) do nothing`,
            [agentId, build.id, AGENT_NAME, tokenHash],
          );
        }
      });
      return { agentId };
    },

    /**
     * Records what the provisioner produced: apps, the agent's lifecycle when the driver decided it,
     * the task ↔ agent/app row, the workspace's host, and the job as succeeded.
     */
    async completeBuild(input: { buildId: string; outcome: StartOutcome }): Promise<CompleteBuildResult> {
      return inTransaction(deps, async (tx) => {
        const build = await loadBuild(tx, input.buildId, true);
        if (build.transition === 'start') await recordStartOutcome(tx, build, input.outcome);
        await sql(tx, 'update workspaces set host_id = coalesce(?, host_id), updated_at = now() where id = ?', [
          input.outcome.hostId,
          build.workspace_id,
        ]);
        await sql(
          tx,
          `update workspace_builds set job_status = 'succeeded', job_completed_at = now(), updated_at = now()
            where id = ? and job_status in ('pending', 'running')`,
          [build.id],
        );
        const host = await sqlOne<{ host_id: string | null }>(tx, 'select host_id from workspaces where id = ?', [build.workspace_id]);
        return { ...(await loadTaskAppState(tx, build.task_id)), hostId: host?.host_id ?? null };
      });
    },

    /** The job failed: its error is kept on the build (the task reads `error`, §2.1). */
    async failBuild(input: { buildId: string; error: string }): Promise<void> {
      await sql(
        forkEm(deps),
        `update workspace_builds set job_status = 'failed', job_error = ?, job_completed_at = now(), updated_at = now()
          where id = ? and job_status in ('pending', 'running')`,
        [input.error.slice(0, 4000), input.buildId],
      );
    },
  };
}

async function recordStartOutcome(tx: EntityManager, build: BuildRow, outcome: StartOutcome): Promise<void> {
  const agentId = buildAgentId(build.id);
  const appIds = new Map<string, string>();
  for (const app of outcome.apps) {
    // a retry keeps the first row (and any health the agent reported since), refreshing only its shape
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
    appIds.set(app.slug, row!.id);
  }
  if (outcome.agentLifecycle !== 'created') {
    // only a driver that plays the agent decides the lifecycle, and never over a real report
    await sql(
      tx,
      `update workspace_agents set lifecycle_state = ?, lifecycle_changed_at = now(), updated_at = now()
        where id = ? and lifecycle_state = 'created'`,
      [outcome.agentLifecycle, agentId],
    );
  }
  const parsed = workspaceDefinitionSchema.safeParse(build.definition);
  const aiSlug = parsed.success ? parsed.data.ai_task?.app : undefined;
  const appId = aiSlug ? (appIds.get(aiSlug) ?? null) : null;
  await sql(
    tx,
    `update task_workspace_apps set workspace_agent_id = ?, workspace_app_id = ?
      where task_id = ? and workspace_build_number = ?`,
    [agentId, appId, build.task_id, build.build_number],
  );
}
