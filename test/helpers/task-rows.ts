// Task records written straight into the database for read-side API tests: a task, its workspace and
// any sequence of builds (with agent, apps and app statuses) in exactly the states a test needs.
// No workflow runs for these tasks, so nothing moves them on behind the test's back.
import { randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TestStack } from './stack';

export async function sql<T = any>(stack: TestStack, text: string, params: unknown[] = []): Promise<T[]> {
  const em = stack.orm.em.fork() as EntityManager;
  return (await em.execute(text, params as never[], 'all')) as T[];
}

export interface TaskRows {
  taskId: string;
  workspaceId: string;
  name: string;
  ownerId: string;
  versionId: string;
}

export interface TaskRowsOptions {
  ownerId: string;
  orgId: string;
  templateId: string;
  versionId: string;
  name?: string;
  displayName?: string;
  prompt?: string;
  /** defaults to now; lists are ordered by it */
  createdAt?: Date;
  /** false: a task whose workspace link is missing (NULL workspace_id) */
  withWorkspace?: boolean;
}

export async function insertTask(stack: TestStack, o: TaskRowsOptions): Promise<TaskRows> {
  const taskId = randomUUID();
  const workspaceId = randomUUID();
  const name = o.name ?? `task-${randomBytes(3).toString('hex')}`;
  const createdAt = o.createdAt ?? new Date();
  const withWorkspace = o.withWorkspace ?? true;
  if (withWorkspace) {
    await sql(
      stack,
      `insert into workspaces (id, organization_id, owner_id, template_id, name, deleted, created_at, updated_at)
       values (?, ?, ?, ?, ?, false, ?, ?)`,
      [workspaceId, o.orgId, o.ownerId, o.templateId, name, createdAt, createdAt],
    );
  }
  await sql(
    stack,
    `insert into tasks (id, organization_id, owner_id, name, display_name, workspace_id, template_version_id,
                        template_parameters, prompt, created_at)
     values (?, ?, ?, ?, ?, ?, ?, '{}'::jsonb, ?, ?)`,
    [taskId, o.orgId, o.ownerId, name, o.displayName ?? name, withWorkspace ? workspaceId : null, o.versionId,
      o.prompt ?? 'do the thing', createdAt],
  );
  return { taskId, workspaceId, name, ownerId: o.ownerId, versionId: o.versionId };
}

export interface BuildRowsOptions {
  transition: 'start' | 'stop' | 'delete';
  jobStatus: 'pending' | 'running' | 'succeeded' | 'failed' | 'canceling' | 'canceled';
  /** the task agent's lifecycle; null: the task_workspace_apps row names no agent */
  agent?: string | null;
  /** the task app; null: the row names no app */
  app?: { health: string; url?: string } | null;
  /** false: no task_workspace_apps row for this build */
  taskRow?: boolean;
  reason?: string;
  createdAt?: Date;
}

export interface BuildRows {
  buildId: string;
  buildNumber: number;
  agentId: string | null;
  appId: string | null;
}

export async function addBuild(stack: TestStack, t: TaskRows, o: BuildRowsOptions): Promise<BuildRows> {
  const [{ n }] = await sql<{ n: number }>(
    stack,
    'select coalesce(max(build_number), 0) + 1 as n from workspace_builds where workspace_id = ?',
    [t.workspaceId],
  );
  const buildId = randomUUID();
  const createdAt = o.createdAt ?? new Date();
  await sql(
    stack,
    `insert into workspace_builds (id, workspace_id, build_number, transition, reason, template_version_id, initiator_id,
                                   job_id, job_status, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [buildId, t.workspaceId, n, o.transition, o.reason ?? 'initiator', t.versionId, t.ownerId, randomUUID(), o.jobStatus,
      createdAt, createdAt],
  );
  let agentId: string | null = null;
  let appId: string | null = null;
  if (o.agent !== undefined && o.agent !== null) {
    agentId = randomUUID();
    await sql(
      stack,
      `insert into workspace_agents (id, build_id, name, lifecycle_state, auth_token_hash, created_at, updated_at)
       values (?, ?, 'main', ?, ?, now(), now())`,
      [agentId, buildId, o.agent, randomBytes(32).toString('hex')],
    );
    if (o.app) {
      appId = randomUUID();
      await sql(
        stack,
        `insert into workspace_apps (id, agent_id, slug, display_name, url, health, created_at, updated_at)
         values (?, ?, 'ai-agent', 'AI Agent', ?, ?, now(), now())`,
        [appId, agentId, o.app.url ?? 'http://127.0.0.1:9', o.app.health],
      );
    }
  }
  if (o.taskRow !== false) {
    await sql(
      stack,
      'insert into task_workspace_apps (task_id, workspace_build_number, workspace_agent_id, workspace_app_id) values (?, ?, ?, ?)',
      [t.taskId, n, agentId, appId],
    );
  }
  return { buildId, buildNumber: n, agentId, appId };
}

export async function addAppStatus(
  stack: TestStack,
  t: TaskRows,
  b: BuildRows,
  o: { state: string; message?: string; uri?: string | null; createdAt: Date },
): Promise<void> {
  await sql(
    stack,
    `insert into workspace_app_statuses (id, workspace_id, agent_id, app_id, state, message, uri, created_at)
     values (?, ?, ?, ?, ?, ?, ?, ?)`,
    [randomUUID(), t.workspaceId, b.agentId, b.appId, o.state, o.message ?? '', o.uri ?? null, o.createdAt],
  );
}
