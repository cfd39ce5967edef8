import { randomUUID } from 'node:crypto';
import { createRoute } from '@hono/zod-openapi';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor, ApiApp, AppDeps } from '../../context';
import { ApiError, conflict } from '../../errors';
import { requireUser } from '../../middleware/auth';
import { auditRefusal, auditWorkflowAction, type PendingEntry } from '../../audit';
import { SESSION_SECURITY, errorResponses, jsonBody, jsonContent } from '../../dto/common';
import { taskJson, taskSchema } from '../../dto/task';
import { resolveUserParam } from '../../tasks/params';
import { IDEMPOTENCY_HEADER, idempotencyKey } from '../../idempotency';
import { orInternal } from '../../tasks/internal';
import { createTaskRequest, userParams } from '../../tasks/schemas';
import { checkOwner, presetForTask, taskNames, templateVersionForTask, uuidField } from '../../tasks/create-request';
import { createTaskViaWorkflow, updateFailure } from '../../tasks/workflows';
import { auditDiff } from '../../tasks/audit-diff';
import { getTaskById, taskByIdempotencyKey } from '../../../db/tasks';
import { stableUuid } from '../../../lib/named-uuid';
import { TaskFailure, type TaskWorkflowInput } from '../../../workflows/contracts';
import type { IUser } from '../../../db/entities';

// POST /tasks/{user} (spec §3.3). Validation happens here; the records are written by the task
// workflow (update-with-start), so the 201 is sent only once they are durable. Beyond Coder: an
// Idempotency-Key header makes the request safe to retry — the task id is derived from (owner, key),
// so duplicates, even racing ones, address the same workflow and get the same task back.

/** The task an earlier request with the same key created, if any (a replay answers with it). */
async function replayedTask(em: EntityManager, actor: Actor, owner: IUser, key: string) {
  const row = await taskByIdempotencyKey(em, owner.id, key);
  if (!row) return null;
  if (row.deleted) {
    throw conflict(`${IDEMPOTENCY_HEADER} was already used.`, 'The task created with this key has been deleted since.');
  }
  return getTaskById(em, actor, row.id);
}

async function runCreate(deps: AppDeps, input: TaskWorkflowInput) {
  try {
    return await createTaskViaWorkflow(deps, input);
  } catch (err) {
    const failure = updateFailure(err);
    if (failure?.type === TaskFailure.nameTaken) {
      throw new ApiError(409, `Workspace "${input.name}" already exists.`, undefined, [
        { field: 'name', detail: 'This value is already in use and should be unique.' },
      ]);
    }
    if (failure) throw new ApiError(500, 'Internal error creating task.', failure.message);
    throw err;
  }
}

// The rows of a create never hold its prompt (a secret of its owner), only what names the task.

function createdEntries(created: { taskId: string; workspaceId: string; name: string; organizationId: string }, ownerId: string): PendingEntry[] {
  const common = { action: 'create', resourceTarget: created.name, organizationId: created.organizationId } as const;
  return [
    { ...common, resourceType: 'task', resourceId: created.taskId, diff: auditDiff(null, { name: created.name, owner_id: ownerId }) },
    { ...common, resourceType: 'workspace', resourceId: created.workspaceId, diff: auditDiff(null, { name: created.name, owner_id: ownerId }) },
  ];
}

/** A create refused before anything was accepted: the attempted name (as sent, if it was text), never the prompt. */
function refusedEntry(name: unknown, ownerId?: string): PendingEntry {
  const attempted = typeof name === 'string' ? name : '';
  return {
    action: 'create',
    resourceType: 'task',
    resourceTarget: attempted,
    diff: auditDiff(null, { name: attempted, ...(ownerId ? { owner_id: ownerId } : {}) }),
  };
}

export function registerCreateTaskRoute(api: ApiApp, deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'post',
      path: '/tasks/{user}',
      tags: ['Tasks'],
      summary: 'Create a task (and its workspace) for {user}',
      description: `Beyond Coder: an ${IDEMPOTENCY_HEADER} header makes retries return the same task.`,
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: userParams, body: jsonBody(createTaskRequest) },
      responses: { 201: jsonContent(taskSchema, 'Created'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const em = c.get('em');
      const actor = c.get('actor');
      const owner = await resolveUserParam(em, actor, c.req.valid('param').user);
      const body = c.req.valid('json');
      // Like Coder, the attempt is audited whatever its outcome; the workspace entry exists once a
      // workspace was about to be created. A replay created nothing and is not audited.
      return auditWorkflowAction(c, refusedEntry(body.name, owner.id), async (accept) => {
        const versionId = uuidField('template_version_id', body.template_version_id);
        const presetRef = uuidField('template_version_preset_id', body.template_version_preset_id);
        const key = idempotencyKey(c);
        const replay = key ? await replayedTask(em, actor, owner, key) : null;
        if (replay) return [c.json(taskJson(replay), 201), 201];
        const template = await templateVersionForTask(em, actor, versionId);
        const names = await taskNames(c.get('log'), deps.config, body);
        const organizationId = template.version.organization;
        await checkOwner(em, actor, owner, organizationId);
        const presetId = await presetForTask(em, presetRef, template.version.id);
        const taskId = key ? stableUuid('task', owner.id, key) : randomUUID();
        const workspaceId = key ? stableUuid('workspace', taskId) : randomUUID();
        await accept(createdEntries({ taskId, workspaceId, name: names.name, organizationId }, owner.id));
        await runCreate(deps, {
          taskId,
          workspaceId,
          organizationId,
          ownerId: owner.id,
          ownerName: owner.username,
          templateId: template.templateId,
          templateName: template.templateName,
          templateVersionId: template.version.id,
          presetId,
          name: names.name,
          displayName: names.displayName,
          prompt: body.input,
          initiatorId: actor.userId,
          idempotencyKey: key,
        });
        const task = await orInternal('Internal error fetching task.', () => getTaskById(em, actor, taskId));
        if (!task) throw new ApiError(500, 'Internal error fetching task.', 'The task was not found after it was created.');
        return [c.json(taskJson(task), 201), 201];
      });
    },
    // a body the router's validation refuses (a lone surrogate, NUL) is a refused create as well
    async (result, c) => {
      const answer = await api.defaultHook?.(result, c);
      if (answer instanceof Response && result.target === 'json') {
        // the validator hands the hook the body as sent, also when it failed (not in its types)
        const sent = (result as { data?: { name?: unknown } | null }).data;
        await auditRefusal(c, { ...refusedEntry(sent?.name), statusCode: answer.status });
      }
      return answer;
    },
  );
}
