import { createRoute } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../../context';
import { ApiError } from '../../errors';
import { requireUser } from '../../middleware/auth';
import { SESSION_SECURITY, errorResponses, jsonBody } from '../../dto/common';
import { resolveTaskPath } from '../../tasks/params';
import { taskAppClient } from '../../tasks/app-gate';
import { taskInputRequest, taskParams } from '../../tasks/schemas';

// POST /tasks/{user}/{task}/send (spec §3.7): input goes straight to the task app's AgentAPI,
// which must be idle ("stable") to take it. Unlike PATCH input, only the exact empty string is
// refused here — Coder does not trim.

export function registerSendRoute(api: ApiApp, _deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'post',
      path: '/tasks/{user}/{task}/send',
      tags: ['Tasks'],
      summary: 'Send input to the task app of an active task',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: taskParams, body: jsonBody(taskInputRequest) },
      responses: { 204: { description: 'Delivered' }, ...errorResponses(400, 401, 404, 409, 502) },
    }),
    async (c) => {
      const task = await resolveTaskPath(c.get('em'), c.get('actor'), c.req.valid('param'));
      const { input } = c.req.valid('json');
      if (input === '') throw new ApiError(400, 'Task input is required.');
      const client = await taskAppClient(c.get('em'), c.get('actor'), task);
      let status: string;
      try {
        status = (await client.getStatus()).status;
      } catch (err) {
        throw new ApiError(502, 'Failed to get status from task app.', (err as Error).message);
      }
      if (status !== 'stable') throw new ApiError(502, 'Task app is not ready to accept input.', `Status: ${status}`);
      try {
        await client.postMessage(input, 'user');
      } catch (err) {
        throw new ApiError(502, 'Task app rejected the message.', (err as Error).message);
      }
      return c.body(null, 204);
    },
  );
}
