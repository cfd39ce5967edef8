import { createRoute } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../../context';
import { ApiError, conflict } from '../../errors';
import { requireUser } from '../../middleware/auth';
import { SESSION_SECURITY, errorResponses, jsonContent } from '../../dto/common';
import { resolveTaskPath } from '../../tasks/params';
import { taskAppClient } from '../../tasks/app-gate';
import { storedTaskLogs } from '../../tasks/stored-logs';
import { orInternal } from '../../tasks/internal';
import { queuedInputJson } from '../../dto/task';
import { openQueuedInputs } from '../../../db/queued-inputs';
import { taskLogsResponse, taskParams } from '../../tasks/schemas';
import { AgentApiError } from '../../../agent/agentapi-client';
import { InvalidMessageRoleError, messagesToLogs } from '../../../domain/log-snapshot';

// GET /tasks/{user}/{task}/logs (spec §3.8): live from the task app while the task is active,
// from what was stored while it is paused or starting, and refused in error/unknown states. Beyond
// Coder, `queued` lists the inputs of the send queue not delivered yet (absent when there are none).

export function registerLogsRoute(api: ApiApp, _deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'get',
      path: '/tasks/{user}/{task}/logs',
      tags: ['Tasks'],
      summary: "The task app's conversation",
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: taskParams },
      responses: { 200: jsonContent(taskLogsResponse, 'Log entries'), ...errorResponses(400, 401, 404, 409, 502) },
    }),
    async (c) => {
      const task = await resolveTaskPath(c.get('em'), c.get('actor'), c.req.valid('param'));
      const withQueue = async <T extends object>(body: T) => {
        const open = (await orInternal('Internal error fetching queued inputs.', () => openQueuedInputs(c.get('em'), [task.id]))).get(task.id) ?? [];
        return open.length === 0 ? body : { ...body, queued: open.map(queuedInputJson) };
      };
      switch (task.status) {
        case 'active': {
          const client = await taskAppClient(c.get('em'), c.get('actor'), task);
          try {
            return c.json(await withQueue({ logs: messagesToLogs(await client.getMessages()) }), 200);
          } catch (err) {
            // the client rejects a body that breaks the AgentAPI schema (an unknown role included)
            if ((err instanceof AgentApiError && err.kind === 'protocol') || err instanceof InvalidMessageRoleError) {
              throw new ApiError(502, 'Invalid task app response.', err.message);
            }
            throw new ApiError(502, 'Failed to get messages from task app.', (err as Error).message);
          }
        }
        case 'paused':
        case 'pending':
        case 'initializing':
          return c.json(await withQueue(await storedTaskLogs(c.get('em'), task.id)), 200);
        case 'error':
        case 'unknown':
          throw conflict('Cannot fetch logs for task in current state.', `Task status is "${task.status}".`);
      }
    },
  );
}
