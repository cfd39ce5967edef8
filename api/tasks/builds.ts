import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../context';
import { ApiError, conflict, notFound } from '../errors';
import { actorOf } from './params';
import { orInternal } from './internal';
import { buildViaWorkflow, updateFailure } from './workflows';
import { idempotencyKey } from '../routes/tasks/create';
import { getBuild, type BuildRecord } from '../../db/workspaces';
import { queryOne } from '../../db/sql';
import { deleteTaskUpdate, pauseTaskUpdate, resumeTaskUpdate, TaskFailure } from '../../workflows/contracts';
import type { EntityManager } from '@mikro-orm/postgresql';

// Builds requested through the API (pause, resume, delete — from /tasks or from
// POST /workspaces/{id}/builds) all go through the task's workflow, which serialises them and owns
// the state machine; its validators' rejections become Coder's 409s here.

export type BuildOperation = 'pause' | 'resume' | 'delete';

const UPDATES = { pause: pauseTaskUpdate, resume: resumeTaskUpdate, delete: deleteTaskUpdate } as const;

export interface BuildOutcome {
  build: BuildRecord | null;
  /** The workflow said the task is already deleted (a race the delete route tolerates). */
  alreadyDeleted: boolean;
}

/** Sends the build update and reads the new build back. */
export async function requestTaskBuild(
  c: Context<AppEnv>,
  deps: AppDeps,
  taskId: string,
  operation: BuildOperation,
  options: { orphan?: boolean; viaWorkspace?: boolean } = {},
): Promise<BuildOutcome> {
  const em = c.get('em');
  // Beyond Coder: an Idempotency-Key makes pause/resume/delete safe to retry after a timeout
  const key = idempotencyKey(c);
  const updateId = key === null ? undefined : `${operation}:${actorOf(c).userId}:${key}`;
  let buildId: string;
  try {
    const ref = await buildViaWorkflow(
      deps,
      em,
      taskId,
      UPDATES[operation],
      {
        initiatorId: actorOf(c).userId,
        requestId: c.get('requestId'),
        ...(options.orphan ? { orphan: true } : {}),
        ...(options.viaWorkspace ? { viaWorkspace: true } : {}),
      },
      updateId,
    );
    buildId = ref.buildId;
  } catch (err) {
    const failure = updateFailure(err);
    if (!failure) throw err;
    switch (failure.type) {
      case TaskFailure.buildActive:
        throw conflict('A workspace build is already active.');
      case TaskFailure.workspaceRunning:
        throw conflict('Task workspace is already running.', 'Workspace status is "running".');
      case TaskFailure.taskDeleted:
        if (operation === 'delete') return { build: null, alreadyDeleted: true };
        throw notFound();
      default:
        throw new ApiError(500, 'Internal error creating workspace build.', failure.message);
    }
  }
  const build = await orInternal('Internal error fetching workspace build.', () => getBuild(em, buildId));
  if (!build) throw new ApiError(500, 'Internal error fetching workspace build.', 'The new build was not found.');
  return { build, alreadyDeleted: false };
}

/**
 * Soft-deletes the task and drops its snapshot in one statement. "Already deleted" is success: the
 * workflow also deletes the task once the delete build finishes, and may get there first.
 */
export async function softDeleteTask(em: EntityManager, taskId: string): Promise<void> {
  await orInternal('Failed to delete task', () =>
    queryOne(
      em,
      `with deleted as (
         update tasks set deleted_at = now() where id = ? and deleted_at is null returning id
       )
       delete from task_snapshots where task_id = ?`,
      [taskId, taskId],
    ),
  );
}

/** Whether the workspace row exists (deleted workspaces included). */
export async function taskWorkspaceExists(em: EntityManager, workspaceId: string, message: string): Promise<boolean> {
  const row = await orInternal(message, () => queryOne(em, 'select 1 from workspaces where id = ?', [workspaceId]));
  return row !== null;
}
