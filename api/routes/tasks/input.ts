import { createRoute } from '@hono/zod-openapi';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiError, conflict, notFound } from '../../errors';
import { requireUser } from '../../middleware/auth';
import { AuditWriteFailed, auditRefusal, auditedTransaction, failureStatus, type AuditEntry } from '../../audit';
import { SESSION_SECURITY, errorResponses, jsonBody } from '../../dto/common';
import { resolveTaskPath } from '../../tasks/params';
import { orInternal } from '../../tasks/internal';
import { secretChange } from '../../tasks/audit-diff';
import { taskParams, updateTaskInputRequest } from '../../tasks/schemas';
import { lockTaskPrompt, setTaskPrompt } from '../../../db/task-prompt';
import type { ApiApp, AppDeps } from '../../context';
import { trimSpace } from '../../../domain/go-text';

// PATCH /tasks/{user}/{task}/input (spec §3.6): the prompt may change only while the task is
// paused. The task row is locked for the check-then-write, so two edits cannot interleave; the
// stored prompt is the input as sent (only the emptiness check trims).

async function updatePrompt(tx: EntityManager, taskId: string, input: string): Promise<string> {
  const locked = await orInternal('Failed to fetch task.', () => lockTaskPrompt(tx, taskId));
  if (!locked) throw notFound();
  if (locked.status !== 'paused') {
    throw conflict('Unable to update task input, task must be paused.', "Please stop the task's workspace before updating the input.");
  }
  await orInternal('Failed to update task input.', () => setTaskPrompt(tx, taskId, input));
  return locked.prompt;
}

export function registerInputRoute(api: ApiApp, _deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'patch',
      path: '/tasks/{user}/{task}/input',
      tags: ['Tasks'],
      summary: "Change a paused task's prompt",
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: taskParams, body: jsonBody(updateTaskInputRequest) },
      responses: { 204: { description: 'Updated' }, ...errorResponses(400, 401, 404, 409) },
    }),
    async (c) => {
      const task = await resolveTaskPath(c.get('em'), c.get('actor'), c.req.valid('param'));
      const { input } = c.req.valid('json');
      // the prompt is a secret of its owner: the row says it changed, never what it was or became
      const audit = (statusCode: number, changed: boolean): AuditEntry => ({
        action: 'write',
        resourceType: 'task',
        resourceId: task.id,
        resourceTarget: task.name,
        organizationId: task.organizationId,
        diff: changed ? secretChange('prompt') : {},
        statusCode,
      });
      try {
        if (trimSpace(input) === '') throw new ApiError(400, 'Task input is required.');
        await auditedTransaction(c, async (tx) => {
          const previous = await updatePrompt(tx, task.id, input);
          return { result: null, audit: audit(204, previous !== input) };
        });
        return c.body(null, 204);
      } catch (err) {
        // a refusal changed nothing and is recorded on its own; a failed audit write is not retried
        if (!(err instanceof AuditWriteFailed)) await auditRefusal(c, audit(failureStatus(err), false));
        throw err;
      }
    },
  );
}
