import type { EntityManager } from '@mikro-orm/postgresql';
import { goTime, placeholders, rfc3339, sql } from './sql';
import type { AgentLifecycle, AppHealth } from '../domain/task-status';

// The agents of builds with their apps and app statuses, loaded for many builds at once: one
// statement per level, whatever the number of builds.

export interface AppStatusRecord {
  id: string;
  workspaceId: string;
  agentId: string;
  appId: string;
  state: string;
  message: string;
  uri: string | null;
  createdAt: string;
}

export interface AppRecord {
  id: string;
  agentId: string;
  slug: string;
  displayName: string;
  command: string | null;
  url: string;
  health: AppHealth;
  healthcheck: { url: string; interval_s: number; threshold: number } | null;
  statuses: AppStatusRecord[];
}

export interface AgentRecord {
  id: string;
  buildId: string;
  name: string;
  lifecycle: AgentLifecycle;
  startError: string | null;
  firstConnectedAt: string | null;
  lastConnectedAt: string | null;
  lifecycleChangedAt: string | null;
  createdAt: string;
  updatedAt: string;
  apps: AppRecord[];
}

export async function loadAgents(em: EntityManager, buildIds: string[]): Promise<Map<string, AgentRecord[]>> {
  const byBuild = new Map<string, AgentRecord[]>();
  if (buildIds.length === 0) return byBuild;
  const agents = await sql<{
    id: string; build_id: string; name: string; lifecycle_state: AgentLifecycle; start_error: string | null;
    first_connected_at: string | null; last_connected_at: string | null; lifecycle_changed_at: string | null;
    created_at: string; updated_at: string;
  }>(
    em,
    `select a.id, a.build_id, a.name, a.lifecycle_state, a.start_error,
       ${rfc3339('a.first_connected_at')} as first_connected_at, ${rfc3339('a.last_connected_at')} as last_connected_at,
       ${rfc3339('a.lifecycle_changed_at')} as lifecycle_changed_at,
       ${rfc3339('a.created_at')} as created_at, ${rfc3339('a.updated_at')} as updated_at
     from workspace_agents a where a.build_id in (${placeholders(buildIds.length)}) order by a.created_at, a.name`,
    buildIds,
  );
  const apps = await loadApps(em, agents.map((a) => a.id));
  for (const a of agents) {
    const list = byBuild.get(a.build_id) ?? [];
    list.push({
      id: a.id,
      buildId: a.build_id,
      name: a.name,
      lifecycle: a.lifecycle_state,
      startError: a.start_error,
      firstConnectedAt: goTime(a.first_connected_at),
      lastConnectedAt: goTime(a.last_connected_at),
      lifecycleChangedAt: goTime(a.lifecycle_changed_at),
      createdAt: goTime(a.created_at),
      updatedAt: goTime(a.updated_at),
      apps: apps.get(a.id) ?? [],
    });
    byBuild.set(a.build_id, list);
  }
  return byBuild;
}

async function loadApps(em: EntityManager, agentIds: string[]): Promise<Map<string, AppRecord[]>> {
  const byAgent = new Map<string, AppRecord[]>();
  if (agentIds.length === 0) return byAgent;
  const apps = await sql<{
    id: string; agent_id: string; slug: string; display_name: string; command: string | null; url: string;
    health: AppHealth; healthcheck: AppRecord['healthcheck'];
  }>(
    em,
    `select p.id, p.agent_id, p.slug, p.display_name, p.command, p.url, p.health, p.healthcheck
     from workspace_apps p where p.agent_id in (${placeholders(agentIds.length)}) order by p.slug`,
    agentIds,
  );
  const statuses = await loadAppStatuses(em, apps.map((p) => p.id));
  for (const p of apps) {
    const list = byAgent.get(p.agent_id) ?? [];
    list.push({
      id: p.id,
      agentId: p.agent_id,
      slug: p.slug,
      displayName: p.display_name,
      command: p.command,
      url: p.url,
      health: p.health,
      healthcheck: p.healthcheck,
      statuses: statuses.get(p.id) ?? [],
    });
    byAgent.set(p.agent_id, list);
  }
  return byAgent;
}

export const APP_STATUS_COLUMNS = `s.id, s.workspace_id, s.agent_id, s.app_id, s.state, s.message, s.uri, ${rfc3339('s.created_at')} as created_at`;

export interface AppStatusSqlRow {
  id: string; workspace_id: string; agent_id: string; app_id: string; state: string; message: string;
  uri: string | null; created_at: string;
}

export function toAppStatus(s: AppStatusSqlRow): AppStatusRecord {
  return {
    id: s.id, workspaceId: s.workspace_id, agentId: s.agent_id, appId: s.app_id, state: s.state,
    message: s.message, uri: s.uri, createdAt: goTime(s.created_at),
  };
}

async function loadAppStatuses(em: EntityManager, appIds: string[]): Promise<Map<string, AppStatusRecord[]>> {
  const byApp = new Map<string, AppStatusRecord[]>();
  if (appIds.length === 0) return byApp;
  const rows = await sql<AppStatusSqlRow>(
    em,
    `select ${APP_STATUS_COLUMNS} from workspace_app_statuses s
     where s.app_id in (${placeholders(appIds.length)}) order by s.created_at desc, s.id desc`,
    appIds,
  );
  for (const s of rows) {
    const list = byApp.get(s.app_id) ?? [];
    list.push(toAppStatus(s));
    byApp.set(s.app_id, list);
  }
  return byApp;
}

/** The apps of an agent with their URLs. */
export function appUrlsOfAgent(em: EntityManager, agentId: string | null): Promise<{ id: string; url: string }[]> {
  return sql<{ id: string; url: string }>(em, 'select id, url from workspace_apps where agent_id = ?', [agentId]);
}
