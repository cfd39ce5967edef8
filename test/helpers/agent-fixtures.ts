// Records for agent-side tests, written straight into the database: a user, a template version, a
// task with its workspace and builds, each start build with its agent (real derived token) and
// apps. No workflow runs for these tasks, so signals from the agent routes find nobody (by design:
// they are logged and ignored).
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../../db/orm';
import { deriveAgentToken, hashAgentToken } from '../../lib/agent-token';

export interface SeedApp {
  slug: string;
  url?: string;
  command?: string | null;
  health?: string;
  healthcheck?: { url: string; interval_s: number; threshold: number } | null;
}

export interface SeededBuild {
  buildId: string;
  buildNumber: number;
  agentId: string | null;
  token: string | null;
  apps: Record<string, string>;
}

export interface SeededTask {
  userId: string;
  username: string;
  workspaceId: string;
  workspaceName: string;
  taskId: string;
  taskName: string;
  versionId: string;
  builds: SeededBuild[];
}

async function exec(em: EntityManager, sql: string, params: unknown[]): Promise<void> {
  await em.execute(sql, params as never[], 'run');
}

export async function seedTask(
  orm: Orm,
  opts: { definition?: Record<string, unknown>; prompt?: string; apps?: SeedApp[]; aiApp?: string; lifecycle?: string } = {},
): Promise<SeededTask> {
  const em = orm.em.fork() as EntityManager;
  const suffix = randomUUID().slice(0, 8);
  const [userId, orgId, templateId, versionId, workspaceId, taskId] = Array.from({ length: 6 }, () => randomUUID());
  const username = `user-${suffix}`;
  const apps = opts.apps ?? [{ slug: 'agent', url: 'http://127.0.0.1:9/', health: 'initializing', healthcheck: { url: 'http://127.0.0.1:9/status', interval_s: 1, threshold: 3 } }];
  const definition = opts.definition ?? {
    provisioner: 'external',
    env: { GREETING: 'hello' },
    apps: apps.map((a) => ({ slug: a.slug, ...(a.url ? { url: a.url } : {}), ...(a.command ? { command: a.command } : {}) })),
    ai_task: { app: opts.aiApp ?? apps[0]!.slug },
  };
  await exec(em, `insert into users (id, email, username, created_at, updated_at) values (?, ?, ?, now(), now())`, [userId, `${username}@example.test`, username]);
  await exec(em, `insert into organizations (id, name, created_at, updated_at) values (?, ?, now(), now())`, [orgId, `org-${suffix}`]);
  await exec(em, `insert into templates (id, organization_id, name, created_by_id, created_at, updated_at) values (?, ?, ?, ?, now(), now())`, [templateId, orgId, `tpl-${suffix}`, userId]);
  await exec(
    em,
    `insert into template_versions (id, template_id, organization_id, name, definition, has_ai_task, created_by_id, created_at, updated_at)
     values (?, ?, ?, 'v1', ?::jsonb, true, ?, now(), now())`,
    [versionId, templateId, orgId, JSON.stringify(definition), userId],
  );
  const workspaceName = `task-${suffix}`;
  await exec(em, `insert into workspaces (id, organization_id, owner_id, template_id, name, created_at, updated_at) values (?, ?, ?, ?, ?, now(), now())`, [workspaceId, orgId, userId, templateId, workspaceName]);
  await exec(
    em,
    `insert into tasks (id, organization_id, owner_id, name, workspace_id, template_version_id, template_parameters, prompt, created_at)
     values (?, ?, ?, ?, ?, ?, '{}'::jsonb, ?, now())`,
    [taskId, orgId, userId, workspaceName, workspaceId, versionId, opts.prompt ?? 'Write a haiku'],
  );
  const seeded: SeededTask = { userId, username, workspaceId, workspaceName, taskId, taskName: workspaceName, versionId, builds: [] };
  await addBuild(orm, seeded, { transition: 'start', jobStatus: 'succeeded', apps, aiApp: opts.aiApp ?? apps[0]!.slug, lifecycle: opts.lifecycle });
  return seeded;
}

/** Appends build N+1; a start build gets an agent and apps, and the task row points at them. */
export async function addBuild(
  orm: Orm,
  seeded: SeededTask,
  opts: { transition: 'start' | 'stop' | 'delete'; jobStatus: string; apps?: SeedApp[]; aiApp?: string; lifecycle?: string },
): Promise<SeededBuild> {
  const em = orm.em.fork() as EntityManager;
  const buildId = randomUUID();
  const buildNumber = seeded.builds.length + 1;
  await exec(
    em,
    `insert into workspace_builds (id, workspace_id, build_number, transition, reason, template_version_id, initiator_id, job_id, job_status, created_at, updated_at)
     values (?, ?, ?, ?, 'initiator', ?, ?, ?, ?, now(), now())`,
    [buildId, seeded.workspaceId, buildNumber, opts.transition, seeded.versionId, seeded.userId, randomUUID(), opts.jobStatus],
  );
  const build: SeededBuild = { buildId, buildNumber, agentId: null, token: null, apps: {} };
  let aiAppId: string | null = null;
  if (opts.transition === 'start') {
    build.agentId = randomUUID();
    build.token = await deriveAgentToken(em, build.agentId);
    await exec(
      em,
      `insert into workspace_agents (id, build_id, name, lifecycle_state, auth_token_hash, created_at, updated_at)
       values (?, ?, 'main', ?, ?, now(), now())`,
      [build.agentId, buildId, opts.lifecycle ?? 'created', hashAgentToken(build.token)],
    );
    for (const app of opts.apps ?? []) {
      const id = randomUUID();
      build.apps[app.slug] = id;
      if (app.slug === opts.aiApp) aiAppId = id;
      await exec(
        em,
        `insert into workspace_apps (id, agent_id, slug, display_name, command, url, health, healthcheck, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, now(), now())`,
        [id, build.agentId, app.slug, app.slug, app.command ?? null, app.url ?? '', app.health ?? (app.healthcheck ? 'initializing' : 'disabled'),
          app.healthcheck ? JSON.stringify(app.healthcheck) : null],
      );
    }
  }
  await exec(
    em,
    `insert into task_workspace_apps (task_id, workspace_build_number, workspace_agent_id, workspace_app_id) values (?, ?, ?, ?)`,
    [seeded.taskId, buildNumber, build.agentId, aiAppId],
  );
  seeded.builds.push(build);
  return build;
}

export async function query<T>(orm: Orm, sql: string, params: unknown[] = []): Promise<T[]> {
  return (orm.em.fork() as EntityManager).execute<T[]>(sql, params as never[], 'all');
}
