import type { EntityManager } from '@mikro-orm/postgresql';
import type { AgentActor } from '../context';
import { ApiError } from '../errors';
import { appHealths, reportAppHealth, reportLifecycle } from '../../db/agents';
import type { AgentLifecycle } from '../../domain/task-status';

// Lifecycle and app-health reports of the workspace agent: checked here, stored by db/agents.ts (the
// one writer of reported agent state), then signalled to the task workflow by the route.

/**
 * Sets the agent's lifecycle unless a report with a later `changed_at` is already stored: an agent
 * retrying an old report after a network hiccup must not move the state backwards.
 */
export async function storeLifecycle(
  em: EntityManager,
  agent: AgentActor,
  report: { state: AgentLifecycle; changed_at: string; reason?: string },
): Promise<boolean> {
  return reportLifecycle(em, agent.agentId, {
    state: report.state,
    by: { agent: true, changedAt: report.changed_at },
    ...(report.state === 'start_error' ? { startError: report.reason ?? null } : {}),
  });
}

export type ReportedHealth = 'healthy' | 'unhealthy' | 'initializing';

/**
 * Every app must be one of this agent's apps with a healthcheck; otherwise nothing is stored.
 * `healths` keys are validated UUIDs (the route's schema). Returns the apps whose health changed.
 */
export async function storeAppHealth(em: EntityManager, agent: AgentActor, healths: Record<string, ReportedHealth>): Promise<string[]> {
  const ids = Object.keys(healths);
  const known = await appHealths(em, agent.agentId, ids);
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
  return ids.length === 0 ? [] : reportAppHealth(em, agent.agentId, healths);
}
