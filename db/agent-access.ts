import type { EntityManager } from '@mikro-orm/postgresql';
import { sql, sqlOne } from './sql';

// What the API's agent routes read on a workspace agent's behalf. An agent reaches only its own
// workspace: every lookup here starts from the agent (or its workspace), never from an id the agent
// could choose freely.

export interface AgentIdentity {
  agent_id: string;
  build_id: string;
  build_number: number;
  workspace_id: string;
  owner_id: string;
  /** a build after the agent's exists that is a start build or has finished */
  superseded: boolean;
}

/** The agent whose token hashes to `tokenHash`, in a workspace that is not deleted. */
export function agentByTokenHash(em: EntityManager, tokenHash: string): Promise<AgentIdentity | null> {
  return sqlOne<AgentIdentity>(
    em,
    `select a.id as agent_id, a.build_id, b.build_number, b.workspace_id, w.owner_id,
            exists (select 1 from workspace_builds x
                     where x.workspace_id = b.workspace_id and x.build_number > b.build_number
                       and (x.transition = 'start' or x.job_status not in ('pending', 'running'))) as superseded
       from workspace_agents a
       join workspace_builds b on b.id = a.build_id
       join workspaces w on w.id = b.workspace_id
      where a.auth_token_hash = ? and not w.deleted`,
    [tokenHash],
  );
}

export interface ManifestBuildRow {
  job_status: string;
  agent_name: string;
  workspace_name: string;
  owner_name: string;
  definition: unknown;
}

export interface ManifestAppRow {
  id: string;
  slug: string;
  display_name: string;
  url: string;
  command: string | null;
  healthcheck: { url: string; interval_s: number; threshold: number } | null;
}

export interface ManifestTaskRow {
  id: string;
  prompt: string;
  /** a user message reached the AI app: the prompt must not be sent again */
  started: boolean;
}

/** The agent's build, apps and live task, and the note that the agent has connected. */
export async function manifestRows(
  em: EntityManager,
  agent: { agentId: string; workspaceId: string },
): Promise<{ build: ManifestBuildRow | null; apps: ManifestAppRow[]; task: ManifestTaskRow | null }> {
  const build = await sqlOne<ManifestBuildRow>(
    em,
    `select b.job_status, a.name as agent_name, w.name as workspace_name, u.username as owner_name, tv.definition
       from workspace_agents a
       join workspace_builds b on b.id = a.build_id
       join workspaces w on w.id = b.workspace_id
       join users u on u.id = w.owner_id
       join template_versions tv on tv.id = b.template_version_id
      where a.id = ?`,
    [agent.agentId],
  );
  if (!build || build.job_status !== 'succeeded') return { build, apps: [], task: null };
  const apps = await sql<ManifestAppRow>(
    em,
    'select id, slug, display_name, url, command, healthcheck from workspace_apps where agent_id = ? order by created_at, slug',
    [agent.agentId],
  );
  const task = await sqlOne<ManifestTaskRow>(
    em,
    `select t.id, t.prompt,
            (t.prompt_delivered_at is not null
             or exists (select 1 from task_messages m where m.task_id = t.id and m.role = 'user')) as started
       from tasks t where t.workspace_id = ? and t.deleted_at is null
      order by t.created_at desc limit 1`,
    [agent.workspaceId],
  );
  await sql(
    em,
    `update workspace_agents set first_connected_at = coalesce(first_connected_at, now()), last_connected_at = now()
      where id = ?`,
    [agent.agentId],
  );
  return { build, apps, task };
}

/** The id of the agent's app with this slug. */
export async function appIdBySlug(em: EntityManager, agentId: string, slug: string): Promise<string | null> {
  return (await sqlOne<{ id: string }>(em, 'select id from workspace_apps where agent_id = ? and slug = ?', [agentId, slug]))?.id ?? null;
}

export interface AppStatusNotificationRow {
  task_id: string | null;
  task_name: string | null;
  task_app_id: string | null;
  workspace_name: string;
  lifecycle: string;
}

/** What decides a task state notification (§7.1): the workspace's live task, its app, the agent's lifecycle. */
export function appStatusNotificationRow(em: EntityManager, agent: { agentId: string; workspaceId: string }): Promise<AppStatusNotificationRow | null> {
  return sqlOne<AppStatusNotificationRow>(
    em,
    `select t.id as task_id, t.name as task_name, twa.workspace_app_id as task_app_id, w.name as workspace_name,
            a.lifecycle_state as lifecycle
       from workspace_agents a
       join workspaces w on w.id = ?
       left join tasks t on t.workspace_id = w.id and t.deleted_at is null
       left join lateral (select workspace_app_id from task_workspace_apps x where x.task_id = t.id
                           order by x.workspace_build_number desc limit 1) twa on true
      where a.id = ?`,
    [agent.workspaceId, agent.agentId],
  );
}
