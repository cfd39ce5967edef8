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
  type AdoptTaskInput,
  type TaskWorkflowInput,
} from '../../workflows/contracts';
import type { Config } from '../../lib/config';

// The API's side of the task workflow: create is update-with-start (the 201 waits until the
// records are durably written), every later change an Update on the task's workflow. A task whose
// workflow is gone (ended, or rows inserted without one) gets it back, adopting its stored records.

interface WorkflowDeps {
  temporal: Client;
  config: Config;
}

function startOperation(deps: WorkflowDeps, input: TaskWorkflowInput | AdoptTaskInput) {
  const named = 'adopt' in input ? null : input;
  return new WithStartWorkflowOperation(TASK_WORKFLOW_TYPE, {
    workflowId: taskWorkflowId(input.taskId),
    taskQueue: deps.config.temporal.taskQueue,
    args: [input],
    // Racing duplicates (same Idempotency-Key, hence same task id) attach to the one workflow.
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: named ? `Task ${named.ownerName}/${named.name}` : `Task ${input.taskId}`,
    // an adopted task's run names itself once it has read its records
    typedSearchAttributes: [
      { key: TASK_SEARCH_KEYS.taskId, value: input.taskId },
      ...(named
        ? [
            { key: TASK_SEARCH_KEYS.taskStatus, value: 'pending' },
            { key: TASK_SEARCH_KEYS.ownerName, value: named.ownerName },
            { key: TASK_SEARCH_KEYS.templateName, value: named.templateName },
          ]
        : []),
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

/**
 * Sends a build update (pause / resume / delete) to the task's workflow. When the workflow no
 * longer runs, it is started again with the update attached — given only the task id, it reads
 * the rest from the task's records — so the update's validator still decides.
 */
export async function buildViaWorkflow(
  deps: WorkflowDeps,
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
  return withinDeadline(deps, () =>
    deps.temporal.workflow.executeUpdateWithStart(update, {
      args: [request],
      updateId,
      startWorkflowOperation: startOperation(deps, { taskId, adopt: true }),
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
