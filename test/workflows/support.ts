// Drives task workflows the way the API does (update-with-start for create, updates for
// pause/resume/delete) and reads results back from the database, so workflow tests do not depend
// on the HTTP routes.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  TASK_SEARCH_KEYS,
  taskWorkflowId,
  type BuildRef,
  type BuildRequest,
  type CreateTaskResult,
  type TaskWorkflowInput,
} from '../../workflows/contracts';
import type { UpdateDefinition } from '@temporalio/common';
import { createTaskViaWorkflow } from '../../api/tasks/workflows';
import type { TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';

export interface Seed {
  userId: string;
  username: string;
  orgId: string;
  templateId: string;
  templateName: string;
}

export function em(stack: TestStack): EntityManager {
  return stack.orm.em.fork() as EntityManager;
}

export async function rows<T = any>(stack: TestStack, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await em(stack).execute(sql, params as never[], 'all')) as T[];
}

export async function seedOwner(stack: TestStack): Promise<Seed> {
  const s = randomUUID().slice(0, 8);
  const seed: Seed = { userId: randomUUID(), username: `user-${s}`, orgId: randomUUID(), templateId: randomUUID(), templateName: `tpl-${s}` };
  await rows(stack, `insert into users (id, email, username, created_at, updated_at) values (?, ?, ?, now(), now())`, [
    seed.userId,
    `${seed.username}@example.com`,
    seed.username,
  ]);
  await rows(stack, `insert into organizations (id, name, is_default, created_at, updated_at) values (?, ?, false, now(), now())`, [
    seed.orgId,
    `org-${s}`,
  ]);
  await rows(
    stack,
    `insert into templates (id, organization_id, name, created_by_id, created_at, updated_at) values (?, ?, ?, ?, now(), now())`,
    [seed.templateId, seed.orgId, seed.templateName, seed.userId],
  );
  return seed;
}

/** A template version with an echo workspace whose task app is "agent" (healthchecked). */
export async function seedVersion(stack: TestStack, seed: Seed, extra: Record<string, unknown> = {}): Promise<string> {
  const id = randomUUID();
  const definition = {
    provisioner: 'echo',
    apps: [{ slug: 'agent', healthcheck: { path: '/status' } }, { slug: 'sidecar' }],
    ai_task: { app: 'agent' },
    ...extra,
  };
  await rows(
    stack,
    `insert into template_versions (id, template_id, organization_id, name, definition, has_ai_task, created_by_id, created_at, updated_at)
     values (?, ?, ?, ?, ?::jsonb, true, ?, now(), now())`,
    [id, seed.templateId, seed.orgId, `v-${id.slice(0, 6)}`, JSON.stringify(definition), seed.userId],
  );
  return id;
}

export function taskInput(seed: Seed, versionId: string, over: Partial<TaskWorkflowInput> = {}): TaskWorkflowInput {
  const name = over.name ?? `task-${randomUUID().slice(0, 8)}`;
  return {
    taskId: randomUUID(),
    workspaceId: randomUUID(),
    organizationId: seed.orgId,
    ownerId: seed.userId,
    ownerName: seed.username,
    templateId: seed.templateId,
    templateName: seed.templateName,
    templateVersionId: versionId,
    presetId: null,
    name,
    displayName: name,
    prompt: 'do the thing',
    initiatorId: seed.userId,
    idempotencyKey: null,
    ...over,
  };
}

/** The API's create call (api/tasks/workflows.ts): update-with-start, joining a running workflow of the same task. */
export function createTask(stack: TestStack, input: TaskWorkflowInput): Promise<CreateTaskResult> {
  return createTaskViaWorkflow({ temporal: stack.temporal, config: stack.config }, input);
}

export function handleOf(stack: TestStack, taskId: string): WorkflowHandle {
  return stack.temporal.workflow.getHandle(taskWorkflowId(taskId));
}

export function operate(
  stack: TestStack,
  taskId: string,
  update: UpdateDefinition<BuildRef, [BuildRequest]>,
  req: BuildRequest,
): Promise<BuildRef> {
  return handleOf(stack, taskId).executeUpdate(update, { args: [req] });
}

export interface TaskRow {
  id: string;
  status: string;
  workspace_build_number: number;
  workspace_agent_id: string | null;
  workspace_app_id: string | null;
  workspace_agent_lifecycle_state: string | null;
  workspace_app_health: string | null;
  build_transition: string;
  build_job_status: string;
}

export async function readTask(stack: TestStack, taskId: string): Promise<TaskRow | null> {
  const [row] = await rows<TaskRow>(stack, 'select * from tasks_with_status where id = ?', [taskId]);
  return row ?? null;
}

export async function waitForStatus(stack: TestStack, taskId: string, status: string, timeoutMs = 15_000): Promise<TaskRow> {
  let last: TaskRow | null = null;
  try {
    return await waitFor(
      async () => {
        last = await readTask(stack, taskId);
        return last?.status === status ? last : null;
      },
      { timeoutMs, intervalMs: 100, what: `task to be ${status}` },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last row: ${JSON.stringify(last)}`, { cause: err });
  }
}

export async function buildsOf(stack: TestStack, workspaceId: string) {
  return rows<{ id: string; build_number: number; transition: string; reason: string; job_status: string; job_error: string | null; created_at: Date }>(
    stack,
    'select id, build_number, transition, reason, job_status, job_error, created_at from workspace_builds where workspace_id = ? order by build_number',
    [workspaceId],
  );
}

export async function notificationsOf(stack: TestStack, userId: string) {
  return rows<{ id: string; template_id: string; labels: Record<string, string>; dedupe_key: string; status: string; attempts: number }>(
    stack,
    'select id, template_id, labels, dedupe_key, status, attempts from notification_messages where user_id = ? order by created_at',
    [userId],
  );
}

export async function searchAttribute(stack: TestStack, taskId: string, key: keyof typeof TASK_SEARCH_KEYS): Promise<string | undefined> {
  const d = await handleOf(stack, taskId).describe();
  return d.typedSearchAttributes.get(TASK_SEARCH_KEYS[key]) as string | undefined;
}
