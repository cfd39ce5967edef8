import { createRoute } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../../context';
import { ApiError, notFound } from '../../errors';
import { requireUser } from '../../middleware/auth';
import { auditWorkflowAction, auditedTransaction, type PendingEntry } from '../../audit';
import { SESSION_SECURITY, errorResponses, jsonContent } from '../../dto/common';
import { queuedInputJson, taskJson, taskSchema } from '../../dto/task';
import { resolveTaskPath } from '../../tasks/params';
import { requestTaskBuild } from '../../tasks/builds';
import { orInternal } from '../../tasks/internal';
import { idempotencyKey } from '../../idempotency';
import { workspaceExists } from '../../../db/workspaces';
import { softDeleteTask } from '../../../db/task-records';
import { openQueuedInputs } from '../../../db/queued-inputs';
import { taskParams } from '../../tasks/schemas';

// GET and DELETE /tasks/{user}/{task} (spec §3.4, §3.5).

export function registerReadDeleteRoutes(api: ApiApp, deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'get',
      path: '/tasks/{user}/{task}',
      tags: ['Tasks'],
      summary: 'Get a task by id, or by name of {user}',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: taskParams },
      responses: { 200: jsonContent(taskSchema, 'The task'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const task = await resolveTaskPath(c.get('em'), c.get('actor'), c.req.valid('param'));
      if (!task.workspaceId) throw new ApiError(500, 'Internal error fetching task.', 'Task workspace ID is invalid.');
      // A deleted workspace still answers; a workspace without a build or template does not.
      if (!task.workspace || !task.latestBuild) throw notFound();
      const queued = await orInternal('Internal error fetching task.', () => openQueuedInputs(c.get('em'), [task.id]));
      return c.json({ ...taskJson(task), queued_inputs: (queued.get(task.id) ?? []).map(queuedInputJson) }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'delete',
      path: '/tasks/{user}/{task}',
      tags: ['Tasks'],
      summary: 'Delete a task: a delete build for its workspace, then the task is gone',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: taskParams },
      responses: { 202: { description: 'Accepted' }, ...errorResponses(400, 401, 404, 409) },
    }),
    async (c) => {
      const em = c.get('em');
      const task = await resolveTaskPath(em, c.get('actor'), c.req.valid('param'));
      const workspaceId = task.workspaceId;
      const entry: PendingEntry = { action: 'delete', resourceType: 'task', resourceId: task.id, resourceTarget: task.name, organizationId: task.organizationId };
      if (!workspaceId) {
        // a broken record no workflow can run for (its workspace is missing): nothing but the row to remove
        await auditedTransaction(c, async (tx) => {
          await orInternal('Failed to delete task', () => softDeleteTask(tx, task.id));
          return { result: null, audit: { ...entry, statusCode: 202 } };
        });
        return c.body(null, 202);
      }
      return auditWorkflowAction(c, entry, async (accept) => {
        const exists = await orInternal('Internal error fetching task workspace before deleting task.', () => workspaceExists(em, workspaceId));
        if (!exists) throw notFound();
        await accept([entry]);
        // the workflow soft-deletes the task in the transaction that writes the delete build
        await requestTaskBuild(deps, em, {
          taskId: task.id,
          operation: 'delete',
          actor: c.get('actor'),
          requestId: c.get('requestId'),
          idempotencyKey: idempotencyKey(c),
        });
        return [c.body(null, 202), 202];
      });
    },
  );
}
