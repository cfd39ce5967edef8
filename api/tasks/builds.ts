import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor, AppDeps } from '../context';
import { ApiError, conflict, notFound } from '../errors';
import { orInternal } from './internal';
import { buildViaWorkflow, updateFailure } from './workflows';
import { getBuild, type BuildRecord } from '../../db/workspaces';
import { deleteTaskUpdate, pauseTaskUpdate, resumeTaskUpdate, TaskFailure } from '../../workflows/contracts';

// Builds requested through the API (pause, resume, delete — from /tasks or from
// POST /workspaces/{id}/builds) all go through the task's workflow, which serialises them, owns
// the state machine and writes every row they change (a delete soft-deletes the task in the same
// transaction as its build); its validators' rejections become Coder's 409s here.

export type BuildOperation = 'pause' | 'resume' | 'delete';

const UPDATES = { pause: pauseTaskUpdate, resume: resumeTaskUpdate, delete: deleteTaskUpdate } as const;

export interface BuildOutcome {
  build: BuildRecord | null;
  /** The workflow said the task is already deleted (a race the delete route tolerates). */
  alreadyDeleted: boolean;
}

export interface TaskBuildRequest {
  taskId: string;
  operation: BuildOperation;
  actor: Actor;
  requestId: string;
  /** Beyond Coder: an Idempotency-Key makes pause/resume/delete safe to retry after a timeout */
  idempotencyKey: string | null;
  orphan?: boolean;
  viaWorkspace?: boolean;
}

/** Sends the build update and reads the new build back. */
export async function requestTaskBuild(deps: AppDeps, em: EntityManager, req: TaskBuildRequest): Promise<BuildOutcome> {
  const updateId = req.idempotencyKey === null ? undefined : `${req.operation}:${req.actor.userId}:${req.idempotencyKey}`;
  let buildId: string;
  try {
    const ref = await buildViaWorkflow(
      deps,
      req.taskId,
      UPDATES[req.operation],
      {
        initiatorId: req.actor.userId,
        requestId: req.requestId,
        ...(req.orphan ? { orphan: true } : {}),
        ...(req.viaWorkspace ? { viaWorkspace: true } : {}),
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
        if (req.operation === 'delete') return { build: null, alreadyDeleted: true };
        throw notFound();
      default:
        throw new ApiError(500, 'Internal error creating workspace build.', failure.message);
    }
  }
  const build = await orInternal('Internal error fetching workspace build.', () => getBuild(em, req.actor, buildId));
  if (!build) throw new ApiError(500, 'Internal error fetching workspace build.', 'The new build was not found.');
  return { build, alreadyDeleted: false };
}
