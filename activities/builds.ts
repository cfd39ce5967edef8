import { hashAgentToken, deriveAgentToken } from '../lib/agent-token';
import { namedUuid } from '../lib/named-uuid';
import { workspaceDefinitionSchema } from '../domain/workspace-definition';
import type { StartOutcome } from '../provisioner/driver';
import {
  TaskFailure,
  type BeginBuildResult,
  type BuildRef,
  type CompleteBuildInput,
  type CompleteBuildResult,
  type CreateBuildInput,
  type ReserveBuildInput,
  type ReservedBuild,
} from '../workflows/contracts';
import { enqueueTaskNotification } from './notify';
import { finalizeDeleteRows } from './records';
import { reportLifecycle } from '../db/agents';
import {
  buildByNumber,
  completeBuildJob,
  failBuildJob,
  insertBuild,
  linkTaskApp,
  loadBuild,
  lockTaskForBuild,
  startBuildJob,
  upsertApp,
  type BuildRow,
} from '../db/builds';
import { softDeleteTask } from '../db/task-records';
import { fork, inTransaction } from '../db/sql';
import type { EntityManager } from '@mikro-orm/postgresql';
import { businessFailure, type ActivityDeps } from './deps';
import { loadTaskAppState } from './task-state';

// A build's job moves pending → running → succeeded | failed, each step a guarded UPDATE so that a
// retried activity (or one replayed after a worker crash) changes nothing the first run already did.

export const AGENT_NAME = 'main';

/** The agent of a start build: one per build, with an id any retry recomputes. */
export function buildAgentId(buildId: string): string {
  return namedUuid(`taskd:agent:${buildId}:${AGENT_NAME}`);
}

async function buildOf(em: EntityManager, buildId: string, lock = false): Promise<BuildRow> {
  const build = await loadBuild(em, buildId, lock);
  if (!build) throw businessFailure('BuildNotFound', `Build ${buildId} does not exist.`);
  return build;
}

/** The agent row a start build begins with ("main", token hash derived); none for other transitions. */
async function agentOf(em: EntityManager, buildId: string, transition: string): Promise<{ id: string; name: string; tokenHash: string } | null> {
  if (transition !== 'start') return null;
  const id = buildAgentId(buildId);
  return { id, name: AGENT_NAME, tokenHash: hashAgentToken(await deriveAgentToken(em, id)) };
}

/** pending → running in the caller's transaction; a start build also gets its agent row. */
export async function beginBuildIn(tx: EntityManager, buildId: string, transition: string): Promise<BeginBuildResult> {
  const agent = await agentOf(tx, buildId, transition);
  await startBuildJob(tx, buildId, agent);
  return { agentId: agent?.id ?? null };
}

/**
 * Inserts build N+1 (job pending) with its task_workspace_apps row, once: the job id is the
 * workflow's operation key, so a retry recognises the build it already wrote. A delete build
 * soft-deletes the task too (§3.5: gone for the API at once). Runs in the caller's transaction.
 */
async function writeBuild(deps: ActivityDeps, tx: EntityManager, input: CreateBuildInput): Promise<BuildRef> {
  const existing = await buildByNumber(tx, input.workspaceId, input.buildNumber);
  if (existing) {
    if (existing.job_id === input.operationKey) return { buildId: existing.id, buildNumber: input.buildNumber };
    throw businessFailure(TaskFailure.buildActive, 'A workspace build is already active.');
  }
  const task = await lockTaskForBuild(tx, input.taskId, input.workspaceId);
  // a deleted task whose delete build failed still has a workspace, which another delete may remove
  const deletable = input.transition === 'delete' && task !== null && !task.workspace_deleted;
  if (!task || (task.deleted && !deletable)) throw businessFailure(TaskFailure.taskDeleted, 'The task has been deleted.');
  const buildId = await insertBuild(tx, input);
  if (!buildId) throw businessFailure('TaskRecordsIncomplete', 'The task workspace has no builds.');
  if (input.transition === 'delete') await softDeleteTask(tx, input.taskId);
  deps.log.info(
    { taskId: input.taskId, buildId, buildNumber: input.buildNumber, transition: input.transition, reason: input.reason, requestId: input.requestId },
    'workspace build queued',
  );
  return { buildId, buildNumber: input.buildNumber };
}

export function createBuildActivities(deps: ActivityDeps) {
  const activities = {
    /** Build N+1 (job pending) with its task_workspace_apps row (agent/app NULL), once, in one transaction. */
    createBuild(input: CreateBuildInput): Promise<BuildRef> {
      return inTransaction(deps.orm, (tx) => writeBuild(deps, tx, input));
    },

    /** pending → running; a start build also gets its agent row ("main", token hash derived). */
    async beginBuild(input: { buildId: string }): Promise<BeginBuildResult> {
      const build = await buildOf(fork(deps.orm), input.buildId);
      return inTransaction(deps.orm, (tx) => beginBuildIn(tx, build.id, build.transition));
    },

    /**
     * The lean workflow's one step per build request, in one transaction: the build (as
     * createBuild), the operation's notification (enqueued with the build, before it runs, §3.9) and
     * the job begun (as beginBuild). Each part is idempotent on its own (operation key, dedupe key,
     * guarded update), so a retry — or a rerun after the worker died inside it — repeats nothing
     * already done; a transaction cut short leaves nothing at all.
     */
    async reserveBuild(input: ReserveBuildInput): Promise<ReservedBuild> {
      const { notify, ...create } = input;
      return inTransaction(deps.orm, async (tx) => {
        const ref = await writeBuild(deps, tx, create);
        if (notify) await enqueueTaskNotification(tx, { taskId: input.taskId, buildId: ref.buildId, event: notify });
        return { ...ref, ...(await beginBuildIn(tx, ref.buildId, input.transition)) };
      });
    },

    /**
     * Records what the provisioner produced: apps, the agent's lifecycle when the driver decided it,
     * the task ↔ agent/app row, the workspace's host, and the job as succeeded.
     */
    async completeBuild(input: CompleteBuildInput): Promise<CompleteBuildResult> {
      return inTransaction(deps.orm, async (tx) => {
        const build = await buildOf(tx, input.buildId, true);
        if (build.transition === 'start') await recordStartOutcome(tx, build, input.outcome);
        const hostId = await completeBuildJob(tx, build, input.outcome.hostId);
        // the lean workflow's follow-ups, in the same transaction: written together or not at all
        if (input.finalizeDelete) await finalizeDeleteRows(tx, { ...input.finalizeDelete, buildSucceeded: true });
        if (input.notify) await enqueueTaskNotification(tx, { taskId: build.task_id, buildId: build.id, event: input.notify });
        return { ...(await loadTaskAppState(tx, build.task_id)), hostId };
      });
    },

    /** The job failed: its error is kept on the build (the task reads `error`, §2.1). */
    async failBuild(input: { buildId: string; error: string }): Promise<void> {
      await failBuildJob(fork(deps.orm), input.buildId, input.error);
    },
  };
  return activities;
}

async function recordStartOutcome(tx: EntityManager, build: BuildRow, outcome: StartOutcome): Promise<void> {
  const agentId = buildAgentId(build.id);
  const appIds = new Map<string, string>();
  for (const app of outcome.apps) appIds.set(app.slug, await upsertApp(tx, agentId, app));
  if (outcome.agentLifecycle !== 'created') {
    // a driver that plays the agent (echo) reports for it, and never over the agent's own report
    await reportLifecycle(tx, agentId, { state: outcome.agentLifecycle, by: { agent: false, replaces: ['created'] } });
  }
  const parsed = workspaceDefinitionSchema.safeParse(build.definition);
  const aiSlug = parsed.success ? parsed.data.ai_task?.app : undefined;
  await linkTaskApp(tx, build.task_id, build.build_number, agentId, aiSlug ? (appIds.get(aiSlug) ?? null) : null);
}
