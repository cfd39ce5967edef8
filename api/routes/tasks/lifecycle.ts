import { createRoute } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../../context';
import { ApiError, conflict, notFound } from '../../errors';
import { requireUser } from '../../middleware/auth';
import { auditWorkflowAction, type PendingEntry } from '../../audit';
import { SESSION_SECURITY, errorResponses, jsonContent } from '../../dto/common';
import { workspaceBuildJson } from '../../dto/workspace-build';
import { resolveTaskPath } from '../../tasks/params';
import { requestTaskBuild } from '../../tasks/builds';
import { orInternal } from '../../tasks/internal';
import { idempotencyKey } from '../../idempotency';
import { workspaceExists } from '../../../db/workspaces';
import { buildResponse, taskParams } from '../../tasks/schemas';
import { workspaceStatus } from '../../../domain/task-status';

// POST /tasks/{user}/{task}/pause and /resume (spec §3.9): a stop or start build through the
// task's workflow, answered at once with the new build, and audited as the workspace's stop or start
// (api/audit.ts: the row is committed before the workflow is asked). Like Coder, pause does not check that the
// task runs (another stop build is simply queued) and resume refuses only a running workspace.

export function registerLifecycleRoutes(api: ApiApp, deps: AppDeps): void {
  for (const operation of ['pause', 'resume'] as const) {
    api.openapi(
      createRoute({
        method: 'post',
        path: `/tasks/{user}/{task}/${operation}`,
        tags: ['Tasks'],
        summary: operation === 'pause' ? 'Pause a task (stop its workspace)' : 'Resume a paused task (start its workspace)',
        security: SESSION_SECURITY,
        middleware: [requireUser] as const,
        request: { params: taskParams },
        responses: { 202: jsonContent(buildResponse, 'The new build'), ...errorResponses(401, 404, 409) },
      }),
      async (c) => {
        const em = c.get('em');
        const task = await resolveTaskPath(em, c.get('actor'), c.req.valid('param'));
        const workspaceId = task.workspaceId;
        const entry: PendingEntry = {
          action: operation === 'pause' ? 'stop' : 'start',
          resourceType: 'workspace',
          resourceId: workspaceId,
          resourceTarget: task.name,
          organizationId: task.organizationId,
        };
        return auditWorkflowAction(c, entry, async (accept) => {
          if (!workspaceId) throw new ApiError(500, 'Task does not have a workspace.');
          if (!(await orInternal('Internal error fetching task workspace.', () => workspaceExists(em, workspaceId)))) throw notFound();
          if (operation === 'resume' && task.latestBuild) {
            const status = workspaceStatus(task.latestBuild.transition, task.latestBuild.jobStatus);
            if (status === 'running') throw conflict('Task workspace is already running.', `Workspace status is "${status}".`);
          }
          await accept([entry]);
          const { build } = await requestTaskBuild(deps, em, {
            taskId: task.id,
            operation,
            actor: c.get('actor'),
            requestId: c.get('requestId'),
            idempotencyKey: idempotencyKey(c),
          });
          if (!build) throw notFound();
          return [c.json({ workspace_build: workspaceBuildJson(build) }, 202), 202];
        });
      },
    );
  }
}
