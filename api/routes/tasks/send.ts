import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../../context';
import { ApiError, conflict, notFound } from '../../errors';
import { requireUser } from '../../middleware/auth';
import { auditedTransaction } from '../../audit';
import { SESSION_SECURITY, errorResponses, jsonBody, jsonContent } from '../../dto/common';
import { queuedInputJson, queuedInputSchema } from '../../dto/task';
import { resolveTaskPath } from '../../tasks/params';
import { taskAppClient, connectableWorkspace } from '../../tasks/app-gate';
import { orInternal } from '../../tasks/internal';
import { queueTaskInput, wantsQueue } from '../../tasks/queued-inputs';
import { taskInputRequest, taskParams } from '../../tasks/schemas';
import { cancelQueuedInput, openQueuedInputs } from '../../../db/queued-inputs';
import { parseUuid } from '../../../domain/ids';

// POST /tasks/{user}/{task}/send (spec §3.7): input goes straight to the task app's AgentAPI,
// which must be idle ("stable") to take it. Unlike PATCH input, only the exact empty string is
// refused here — Coder does not trim. Beyond Coder, ?queue=true (or Prefer: respond-async) queues
// the input instead (api/tasks/queued-inputs.ts); the queue is read and cancelled at
// /tasks/{user}/{task}/queued-inputs.

const flag = z.enum(['true', 'false']).optional();
const sendQuery = z.object({
  queue: flag.openapi({ description: 'Beyond Coder: queue the input (202) for delivery when the app is next idle, instead of sending it now' }),
  resume: flag.openapi({ description: 'With queue: resume a paused task first' }),
});
const queuedInputsList = z.object({ queued_inputs: z.array(queuedInputSchema) }).openapi('QueuedInputsResponse');

export function registerSendRoute(api: ApiApp, deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'post',
      path: '/tasks/{user}/{task}/send',
      tags: ['Tasks'],
      summary: 'Send input to the task app of an active task (or queue it: ?queue=true)',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: taskParams, query: sendQuery, body: jsonBody(taskInputRequest) },
      responses: {
        202: jsonContent(queuedInputSchema, 'Queued (queue=true): delivered in order when the app is next idle'),
        204: { description: 'Delivered' },
        ...errorResponses(400, 401, 404, 409, 502),
      },
    }),
    async (c) => {
      const task = await resolveTaskPath(c.get('em'), c.get('actor'), c.req.valid('param'));
      const { input } = c.req.valid('json');
      if (input === '') throw new ApiError(400, 'Task input is required.');
      const query = c.req.valid('query');
      if (wantsQueue(c, query.queue)) {
        const { queued } = await queueTaskInput(c, deps, task, input, query.resume === 'true');
        return c.json(queued, 202);
      }
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

  api.openapi(
    createRoute({
      method: 'get',
      path: '/tasks/{user}/{task}/queued-inputs',
      tags: ['Tasks'],
      summary: 'Beyond Coder: the inputs queued for the task app and not delivered yet, oldest first',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: taskParams },
      responses: { 200: jsonContent(queuedInputsList, 'The open queue'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const task = await resolveTaskPath(c.get('em'), c.get('actor'), c.req.valid('param'));
      const open = await orInternal('Internal error fetching queued inputs.', () => openQueuedInputs(c.get('em'), [task.id]));
      return c.json({ queued_inputs: (open.get(task.id) ?? []).map(queuedInputJson) }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'delete',
      path: '/tasks/{user}/{task}/queued-inputs/{id}',
      tags: ['Tasks'],
      summary: 'Beyond Coder: cancel a queued input that is not being delivered yet',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: taskParams.extend({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, format: 'uuid' }) }) },
      responses: { 204: { description: 'Cancelled (or was already)' }, ...errorResponses(400, 401, 404, 409) },
    }),
    async (c) => {
      const em = c.get('em');
      const params = c.req.valid('param');
      const queuedId = parseUuid(params.id);
      if (!queuedId) throw new ApiError(400, 'Invalid queued input id.', `"${params.id}" is not a UUID.`);
      const task = await resolveTaskPath(em, c.get('actor'), params);
      if (!task.workspaceId) throw notFound();
      await connectableWorkspace(em, c.get('actor'), task.workspaceId);
      const found = await auditedTransaction(c, async (tx) => {
        const state = await orInternal('Internal error cancelling queued input.', () => cancelQueuedInput(tx, task.id, queuedId));
        const entry = { action: 'write', resourceType: 'task', resourceId: task.id, resourceTarget: task.name, organizationId: task.organizationId } as const;
        return { result: state, audit: state === 'queued' ? { ...entry, statusCode: 204 } : [] };
      });
      if (found === null) throw notFound();
      if (found === 'delivering') throw conflict('The input is being delivered.', 'It can no longer be cancelled.');
      if (found === 'delivered') throw conflict('The input was delivered already.');
      return c.body(null, 204);
    },
  );
}
