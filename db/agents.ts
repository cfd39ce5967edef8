import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { deriveTaskStatus, type AgentLifecycle, type AppHealth, type AppStatusState, type TaskStatus } from '../domain/task-status';
import { rfc3339, sql, sqlOne } from './sql';

// What a workspace agent reports — its lifecycle, its apps' health, what an app is doing — is
// written here and nowhere else. The agent's own reports come through the API's agent routes; the
// only other reports are made on a silent agent's behalf (a driver that plays the agent, a start
// deadline the agent missed), and those may replace only the states a starting agent is in, so
// they never undo what the agent itself said. The task workflow creates the agent and app rows
// (db/builds.ts) and only reads what is reported here.

export interface LifecycleReport {
  state: AgentLifecycle;
  /**
   * Who reports. The agent: the report carries when the state changed, an older report never
   * replaces a newer one, and the agent counts as connected. On the agent's behalf: only an agent
   * still in one of `replaces` changes, as of now.
   */
  by: { agent: true; changedAt: string } | { agent: false; replaces: readonly AgentLifecycle[] };
  /** written to start_error when given (null clears it): why the agent did not start */
  startError?: string | null;
}

/** Stores a lifecycle report; returns whether it changed the agent. */
export async function reportLifecycle(em: EntityManager, agentId: string, report: LifecycleReport): Promise<boolean> {
  const setError = report.startError !== undefined;
  const params: unknown[] = [report.state, report.by.agent ? report.by.changedAt : null, setError, report.startError ?? null];
  let set = `lifecycle_state = ?, lifecycle_changed_at = coalesce(?::timestamptz, now()),
             start_error = case when ? then ? else start_error end, updated_at = now()`;
  let guard: string;
  if (report.by.agent) {
    set += ', first_connected_at = coalesce(first_connected_at, now()), last_connected_at = now()';
    guard = '(lifecycle_changed_at is null or lifecycle_changed_at <= ?::timestamptz)';
    params.push(agentId, report.by.changedAt);
  } else {
    guard = `lifecycle_state in (${report.by.replaces.map(() => '?').join(', ')})`;
    params.push(agentId, ...report.by.replaces);
  }
  const rows = await sql(em, `update workspace_agents set ${set} where id = ? and ${guard} returning id`, params);
  return rows.length > 0;
}

/**
 * What an agent contributes to its task's status (§2.1): its lifecycle and its task app's health,
 * read under a lock on the agent row, so reports of one agent that race each other are seen in turn.
 */
export async function lockedAgentStatus(em: EntityManager, agentId: string): Promise<TaskStatus | null> {
  const row = await sqlOne<{ lifecycle_state: AgentLifecycle; health: AppHealth | null; has_app: boolean }>(
    em,
    `select a.lifecycle_state, ap.health, twa.workspace_app_id is not null as has_app
       from workspace_agents a
       left join task_workspace_apps twa on twa.workspace_agent_id = a.id
       left join workspace_apps ap on ap.id = twa.workspace_app_id
      where a.id = ? for update of a`,
    [agentId],
  );
  if (!row) return null;
  return deriveTaskStatus({
    hasWorkspace: true,
    transition: 'start',
    jobStatus: 'succeeded',
    agentLifecycle: row.lifecycle_state,
    appHealth: row.has_app ? row.health : null,
  });
}

/** The health of some of an agent's apps, by app id (apps of other agents are not there). */
export async function appHealths(em: EntityManager, agentId: string, appIds: string[]): Promise<Map<string, AppHealth>> {
  if (appIds.length === 0) return new Map();
  const rows = await sql<{ id: string; health: AppHealth }>(em, 'select id, health from workspace_apps where agent_id = ? and id = any(?::uuid[])', [
    agentId,
    `{${appIds.join(',')}}`,
  ]);
  return new Map(rows.map((r) => [r.id, r.health]));
}

/**
 * Stores app health reports of an agent's apps in one transaction; with `replaces`, only an app
 * still in one of those states changes (a report on the agent's behalf). Returns the apps whose
 * health changed (a report of the health an app already has writes nothing).
 */
export async function reportAppHealth(
  em: EntityManager,
  agentId: string,
  healths: Record<string, AppHealth>,
  replaces?: readonly AppHealth[],
): Promise<string[]> {
  const changed: string[] = [];
  await em.transactional(async (tx) => {
    for (const [appId, health] of Object.entries(healths)) {
      const guard = replaces ? ` and health in (${replaces.map(() => '?').join(', ')})` : '';
      const rows = await sql(
        tx as EntityManager,
        `update workspace_apps set health = ?, updated_at = now() where id = ? and agent_id = ? and health is distinct from ?${guard} returning id`,
        [health, appId, agentId, health, ...(replaces ?? [])],
      );
      if (rows.length > 0) changed.push(appId);
    }
  });
  return changed;
}

export interface AppStatusRow {
  /** a derived id makes a retried report (on the agent's behalf) write its status once */
  id?: string;
  workspaceId: string;
  agentId: string;
  appId: string;
  state: AppStatusState;
  message: string;
  uri: string | null;
}

/**
 * Appends an app status and returns the state the app reported before it, read under a lock on the
 * app so two racing reports see each other. Null for a status whose id was already written.
 */
export async function appendAppStatus(
  em: EntityManager,
  status: AppStatusRow,
): Promise<{ id: string; createdAt: string; previous: AppStatusState | null } | null> {
  return em.transactional(async (t) => {
    const tx = t as EntityManager;
    await sql(tx, 'select id from workspace_apps where id = ? for update', [status.appId]);
    const previous = await sqlOne<{ state: AppStatusState }>(
      tx,
      'select state from workspace_app_statuses where app_id = ? order by created_at desc, id desc limit 1',
      [status.appId],
    );
    const row = await sqlOne<{ id: string; created_at: string }>(
      tx,
      `insert into workspace_app_statuses (id, workspace_id, agent_id, app_id, state, message, uri, created_at)
       values (?, ?, ?, ?, ?, ?, ?, clock_timestamp()) on conflict (id) do nothing
       returning id, ${rfc3339('created_at')} as created_at`,
      [status.id ?? randomUUID(), status.workspaceId, status.agentId, status.appId, status.state, status.message, status.uri],
    );
    return row ? { id: row.id, createdAt: row.created_at, previous: previous?.state ?? null } : null;
  });
}
