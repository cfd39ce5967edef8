import type { EntityManager } from '@mikro-orm/postgresql';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError, type UpdateDefinition } from '@temporalio/common';
import {
  TASK_SEARCH_KEYS,
  TASK_WORKFLOW_TYPE,
  createTaskUpdate,
  taskWorkflowId,
  type BuildRef,
  type BuildRequest,
  type CreateTaskResult,
  type TaskWorkflowInput,
} from '../../workflows/contracts';
import type { Config } from '../../lib/config';
import { queryOne } from '../../db/sql';

// The API's side of the task workflow: create is update-with-start (the 201 waits until the
// records are durably written), every later change an Update on the task's workflow. A task whose
// workflow is gone (ended, or rows inserted without one) gets it back from its stored records.

interface WorkflowDeps {
  temporal: Client;
  config: Config;
}

function startOperation(deps: WorkflowDeps, input: TaskWorkflowInput) {
  return new WithStartWorkflowOperation(TASK_WORKFLOW_TYPE, {
    workflowId: taskWorkflowId(input.taskId),
    taskQueue: deps.config.temporal.taskQueue,
    args: [input],
    // Racing duplicates (same Idempotency-Key, hence same task id) attach to the one workflow.
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `Task ${input.ownerName}/${input.name}`,
    typedSearchAttributes: [
      { key: TASK_SEARCH_KEYS.taskId, value: input.taskId },
      { key: TASK_SEARCH_KEYS.taskStatus, value: 'pending' },
      { key: TASK_SEARCH_KEYS.ownerName, value: input.ownerName },
      { key: TASK_SEARCH_KEYS.templateName, value: input.templateName },
    ],
  });
}

/**
 * An update waits for a worker to run its handler; with no worker (or Temporal overloaded) the call
 * would hang. Past the deadline the gRPC call fails, which the API answers as 503: the update may
 * still be applied later, so clients retry with an Idempotency-Key to be safe.
 */
function withinDeadline<T>(deps: WorkflowDeps, fn: () => Promise<T>): Promise<T> {
  return deps.temporal.connection.withDeadline(Date.now() + deps.config.temporal.updateTimeoutMs, fn);
}

/** Starts (or joins) the task's workflow and waits until its records exist. */
export function createTaskViaWorkflow(deps: WorkflowDeps, input: TaskWorkflowInput): Promise<CreateTaskResult> {
  return withinDeadline(deps, () =>
    deps.temporal.workflow.executeUpdateWithStart(createTaskUpdate, {
      args: [],
      // One update id per task: Temporal answers a repeated create from the first one's outcome.
      updateId: `create-${input.taskId}`,
      startWorkflowOperation: startOperation(deps, input),
    }),
  );
}

/** The start arguments of a task's workflow, rebuilt from what the database holds. */
export async function storedWorkflowInput(em: EntityManager, taskId: string, initiatorId: string): Promise<TaskWorkflowInput | null> {
  const row = await queryOne<{
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
    initiatorId,
    idempotencyKey: row.idempotency_key,
  };
}

/**
 * Sends a build update (pause / resume / delete) to the task's workflow. When the workflow no
 * longer runs, it is started again from the stored records with the update attached, so the
 * update's validator still decides.
 */
export async function buildViaWorkflow(
  deps: WorkflowDeps,
  em: EntityManager,
  taskId: string,
  update: UpdateDefinition<BuildRef, [BuildRequest]>,
  request: BuildRequest,
  /** a retried request with the same id gets the first one's build instead of a second build */
  updateId?: string,
): Promise<BuildRef> {
  try {
    return await withinDeadline(deps, () =>
      deps.temporal.workflow.getHandle(taskWorkflowId(taskId)).executeUpdate(update, { args: [request], updateId }),
    );
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const input = await storedWorkflowInput(em, taskId, request.initiatorId);
  if (!input) throw new WorkflowNotFoundError('task has no workspace to build', taskWorkflowId(taskId), undefined);
  return withinDeadline(deps, () =>
    deps.temporal.workflow.executeUpdateWithStart(update, {
      args: [request],
      updateId,
      startWorkflowOperation: startOperation(deps, input),
    }),
  );
}

/** The ApplicationFailure an update was rejected with (directly, or wrapped by an activity failure). */
export function updateFailure(err: unknown): ApplicationFailure | null {
  if (!(err instanceof WorkflowUpdateFailedError)) return null;
  let cause: unknown = err.cause;
  while (cause instanceof Error) {
    if (cause instanceof ApplicationFailure && cause.type) return cause;
    cause = cause.cause;
  }
  return null;
}
