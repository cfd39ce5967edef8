import { createRoute } from '@hono/zod-openapi';
import type { ApiApp } from '../../app';
import type { AppDeps } from '../../context';
import { ApiError, notFound } from '../../errors';
import { requireUser } from '../../middleware/auth';
import { SESSION_SECURITY, errorResponses, jsonContent } from '../../dto/common';
import { taskJson, taskSchema } from '../../dto/task';
import { resolveTaskPath } from '../../tasks/params';
import { requestTaskBuild, softDeleteTask, taskWorkspaceExists } from '../../tasks/builds';
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
      const { task } = await resolveTaskPath(c, c.req.valid('param'));
      if (!task.workspaceId) throw new ApiError(500, 'Internal error fetching task.', 'Task workspace ID is invalid.');
      // A deleted workspace still answers; a workspace without a build or template does not.
      if (!task.workspace || !task.latestBuild) throw notFound();
      return c.json(taskJson(task), 200);
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
      const { task } = await resolveTaskPath(c, c.req.valid('param'));
      const em = c.get('em');
      if (task.workspaceId) {
        if (!(await taskWorkspaceExists(em, task.workspaceId, 'Internal error fetching task workspace before deleting task.'))) {
          throw notFound();
        }
        await requestTaskBuild(c, deps, task.id, 'delete');
      }
      await softDeleteTask(em, task.id);
      return c.body(null, 202);
    },
  );
}
