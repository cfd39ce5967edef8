import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { TaskFailure, type TaskWorkflowInput } from '../workflows/contracts';
import { businessFailure, forkEm, inTransaction, sql, violatedConstraint } from './db';
import type { ActivityDeps } from './deps';
import { loadTaskSettings, loadTaskState } from './task-state';
import type { TaskRecordsState } from './types';

// The records that make a task exist (task, workspace, build 1, its task_workspace_apps row) and
// the ones that make it stop existing. Both are safe to run any number of times.

const NAME_CONSTRAINTS = new Set(['tasks_owner_name_key', 'workspaces_owner_name_key']);

export function createRecordActivities(deps: ActivityDeps) {
  return {
    /**
     * Writes the task, its workspace (named after the task), build 1 (start, pending) and the
     * build's task_workspace_apps row in one transaction. A task that already exists is read back
     * instead, so a retried activity, a duplicate create or a workflow started on an existing task
     * all end with the same ids.
     */
    async createTaskRecords(input: TaskWorkflowInput): Promise<TaskRecordsState> {
      const existing = await loadTaskState(forkEm(deps), input.taskId);
      if (existing) return existing;
      const buildId = randomUUID();
      try {
        await inTransaction(deps, async (tx) => {
          const now = new Date();
          await sql(
            tx,
            `insert into tasks (id, organization_id, owner_id, name, display_name, workspace_id, template_version_id,
                                template_parameters, prompt, idempotency_key, created_at)
             values (?, ?, ?, ?, ?, null, ?, '{}'::jsonb, ?, ?, ?)`,
            [input.taskId, input.organizationId, input.ownerId, input.name, input.displayName, input.templateVersionId,
              input.prompt, input.idempotencyKey, now],
          );
          await sql(
            tx,
            `insert into workspaces (id, organization_id, owner_id, template_id, name, host_id, deleted, created_at, updated_at)
             values (?, ?, ?, ?, ?, null, false, ?, ?)`,
            [input.workspaceId, input.organizationId, input.ownerId, input.templateId, input.name, now, now],
          );
          await sql(tx, 'update tasks set workspace_id = ? where id = ? and workspace_id is null', [input.workspaceId, input.taskId]);
          await sql(
            tx,
            `insert into workspace_builds (id, workspace_id, build_number, transition, reason, template_version_id,
                                           template_version_preset_id, initiator_id, job_id, job_status, created_at, updated_at)
             values (?, ?, 1, 'start', 'initiator', ?, ?, ?, ?, 'pending', ?, ?)`,
            [buildId, input.workspaceId, input.templateVersionId, input.presetId, input.initiatorId, randomUUID(), now, now],
          );
          await sql(tx, 'insert into task_workspace_apps (task_id, workspace_build_number) values (?, 1)', [input.taskId]);
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
      const em = forkEm(deps);
      return {
        created: { taskId: input.taskId, workspaceId: input.workspaceId, buildId },
        deleted: false,
        latestBuild: { buildId, buildNumber: 1, transition: 'start', jobStatus: 'pending', reason: 'initiator' },
        hostId: null,
        settings: await loadTaskSettings(em, input.templateVersionId),
        agentId: null,
        appId: null,
        agentLifecycle: null,
        appHealth: null,
      };
    },

    /**
     * After the delete build: the workspace is gone (its name free again) and the task stays
     * soft-deleted with its snapshot removed. The task was already soft-deleted with the build
     * (§3.5); repeating it here covers tasks deleted through their workspace.
     */
    async finalizeDelete(input: { taskId: string; workspaceId: string; buildSucceeded: boolean }): Promise<void> {
      await inTransaction(deps, async (tx) => {
        await softDeleteTask(tx, input.taskId);
        if (input.buildSucceeded) {
          await sql(tx, 'update workspaces set deleted = true, updated_at = now() where id = ? and not deleted', [input.workspaceId]);
        }
      });
    },
  };
}

/** Soft-deletes a task and removes its snapshot; a task already deleted is left as it is. */
export async function softDeleteTask(tx: EntityManager, taskId: string): Promise<void> {
  await sql(tx, 'update tasks set deleted_at = now() where id = ? and deleted_at is null', [taskId]);
  await sql(tx, 'delete from task_snapshots where task_id = ?', [taskId]);
}
