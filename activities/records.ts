import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { TaskFailure, type TaskRecordsState, type TaskWorkflowInput } from '../workflows/contracts';
import { fork, inTransaction, violatedConstraint } from '../db/sql';
import { cancelOpenQueuedInputs } from '../db/queued-inputs';
import { insertTaskRecords, markWorkspaceDeleted, softDeleteTask, storedTaskInput } from '../db/task-records';
import { businessFailure, type ActivityDeps } from './deps';
import { beginBuildIn } from './builds';
import { loadTaskSettings, loadTaskState } from './task-state';

// The records that make a task exist (task, workspace, build 1, its task_workspace_apps row) and
// the ones that make it stop existing. All are safe to run any number of times.

/** The task soft-deleted (again) and, after a successful delete build, its workspace marked deleted. */
export async function finalizeDeleteRows(tx: EntityManager, input: { taskId: string; workspaceId: string; buildSucceeded: boolean }): Promise<void> {
  await softDeleteTask(tx, input.taskId);
  await cancelOpenQueuedInputs(tx, input.taskId);
  if (input.buildSucceeded) await markWorkspaceDeleted(tx, input.workspaceId);
}

const NAME_CONSTRAINTS = new Set(['tasks_owner_name_key', 'workspaces_owner_name_key']);

export function createRecordActivities(deps: ActivityDeps) {
  const activities = {
    /**
     * Writes the task, its workspace (named after the task), build 1 (start, pending) and the
     * build's task_workspace_apps row in one transaction. A task that already exists is read back
     * instead, so a retried activity, a duplicate create or a workflow started on an existing task
     * all end with the same ids.
     */
    createTaskRecords(input: TaskWorkflowInput): Promise<TaskRecordsState> {
      return writeTaskRecords(input, false);
    },

    /**
     * The start arguments of a task whose records exist but whose workflow is not running (it
     * ended, or the rows were written without one); null when the task has no workspace to run.
     */
    async loadTaskInput(input: { taskId: string }): Promise<TaskWorkflowInput | null> {
      const stored = await storedTaskInput(fork(deps.orm), input.taskId);
      return stored && { ...stored, initiatorId: stored.ownerId };
    },

    /**
     * After the delete build: the workspace is gone (its name free again) and the task stays
     * soft-deleted with its snapshot removed. The task was already soft-deleted with the build
     * (§3.5); repeating it here covers tasks deleted through their workspace.
     */
    async finalizeDelete(input: { taskId: string; workspaceId: string; buildSucceeded: boolean }): Promise<void> {
      await inTransaction(deps.orm, (tx) => finalizeDeleteRows(tx, input));
    },

    /**
     * The lean workflow's first step: createTaskRecords with build 1 begun in the same transaction;
     * a task that exists already has its latest build begun when it is still to run. Both are
     * idempotent, so a retry ends the same.
     */
    async createTaskAndBeginBuild(input: TaskWorkflowInput): Promise<TaskRecordsState> {
      const state = await writeTaskRecords(input, true);
      const b = state.latestBuild;
      if (b.jobStatus !== 'pending') return state;
      await inTransaction(deps.orm, (tx) => beginBuildIn(tx, b.buildId, b.transition));
      return { ...state, latestBuild: { ...b, jobStatus: 'running' } };
    },
  };

  /** Task, workspace, build 1 and its task_workspace_apps row in one transaction; `begin`: build 1 begun with them. */
  async function writeTaskRecords(input: TaskWorkflowInput, begin: boolean): Promise<TaskRecordsState> {
    const existing = await loadTaskState(fork(deps.orm), input.taskId);
    if (existing) return existing;
    const buildId = randomUUID();
    try {
      await inTransaction(deps.orm, async (tx) => {
        await insertTaskRecords(tx, input, buildId);
        if (begin) await beginBuildIn(tx, buildId, 'start');
      });
    } catch (err) {
      const constraint = violatedConstraint(err);
      if (constraint !== null && NAME_CONSTRAINTS.has(constraint)) {
        throw businessFailure(TaskFailure.nameTaken, `Workspace "${input.name}" already exists.`);
      }
      if (constraint === 'tasks_owner_idempotency_key') {
        throw businessFailure('IdempotencyKeyConflict', 'The idempotency key already belongs to another task of this owner.');
      }
      // anything else (including a racing insert of this very task) is retried and then finds the rows
      throw err;
    }
    return {
      created: { taskId: input.taskId, workspaceId: input.workspaceId, buildId },
      deleted: false,
      latestBuild: { buildId, buildNumber: 1, transition: 'start', jobStatus: begin ? 'running' : 'pending', reason: 'initiator' },
      hostId: null,
      settings: await loadTaskSettings(fork(deps.orm), input.templateVersionId),
      agentId: null,
      appId: null,
      agentLifecycle: null,
      appHealth: null,
    };
  }

  return activities;
}
