import type { EntityManager } from '@mikro-orm/postgresql';
import type { AgentActor } from '../context';
import { ApiError } from '../errors';
import type { AgentLifecycle } from '../../domain/task-status';

// Lifecycle and app-health reports: stored first (the status view reads them), then signalled to
// the task workflow by the route.

/**
 * Sets the agent's lifecycle unless a report with a later `changed_at` is already stored: an agent
 * retrying an old report after a network hiccup must not move the state backwards.
 */
export async function storeLifecycle(
  em: EntityManager,
  agent: AgentActor,
  report: { state: AgentLifecycle; changed_at: string; reason?: string },
): Promise<void> {
  await em.execute(
    `update workspace_agents
        set lifecycle_state = ?, lifecycle_changed_at = ?::timestamptz,
            start_error = case when ? = 'start_error' then ? else start_error end,
            first_connected_at = coalesce(first_connected_at, now()), last_connected_at = now(), updated_at = now()
      where id = ? and (lifecycle_changed_at is null or lifecycle_changed_at <= ?::timestamptz)`,
    [report.state, report.changed_at, report.state, report.reason ?? null, agent.agentId, report.changed_at],
    'run',
  );
}

export type ReportedHealth = 'healthy' | 'unhealthy' | 'initializing';

/**
 * Every app must be one of this agent's apps with a healthcheck; otherwise nothing is stored.
 * `healths` keys are validated UUIDs (the route's schema), so they travel as one array literal.
 */
export async function storeAppHealth(em: EntityManager, agent: AgentActor, healths: Record<string, ReportedHealth>): Promise<void> {
  const ids = Object.keys(healths);
  if (ids.length === 0) return;
  const apps = await em.execute<{ id: string; health: string }[]>(
    'select id, health from workspace_apps where agent_id = ? and id = any(?::uuid[])',
    [agent.agentId, `{${ids.join(',')}}`],
    'all',
  );
  const known = new Map(apps.map((a) => [a.id, a.health]));
  for (const id of ids) {
    if (!known.has(id)) {
      throw new ApiError(400, 'Invalid app health report.', undefined, [
        { field: `healths.${id}`, detail: `App "${id}" is not an app of this agent.` },
      ]);
    }
    if (known.get(id) === 'disabled') {
      throw new ApiError(400, 'Invalid app health report.', undefined, [
        { field: `healths.${id}`, detail: `App "${id}" has no healthcheck, so its health is not reported.` },
      ]);
    }
  }
  await em.transactional(async (tx) => {
    for (const id of ids) {
      await tx.execute('update workspace_apps set health = ?, updated_at = now() where id = ? and agent_id = ?', [
        healths[id],
        id,
        agent.agentId,
      ], 'run');
    }
  });
}
