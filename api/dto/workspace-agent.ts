import { z } from '@hono/zod-openapi';
import type { AgentRecord, AppRecord, AppStatusRecord } from '../../db/workspaces';
import { AGENT_LIFECYCLES, APP_HEALTHS, type AgentLifecycle } from '../../domain/task-status';

// Coder's WorkspaceAgent / WorkspaceApp / WorkspaceAppStatus JSON (codersdk). Fields taskd has no
// notion of (scripts, log sources, latency, subdomains) are present with their empty values so
// Coder clients decode the objects without surprises.

export const appStatusSchema = z
  .object({
    id: z.string().uuid(),
    created_at: z.string(),
    workspace_id: z.string().uuid(),
    agent_id: z.string().uuid(),
    app_id: z.string().uuid(),
    state: z.string(),
    message: z.string(),
    uri: z.string(),
    icon: z.string(),
    needs_user_attention: z.boolean(),
  })
  .openapi('WorkspaceAppStatus');
export type AppStatusJson = z.infer<typeof appStatusSchema>;

export const agentHealthSchema = z
  .object({ healthy: z.boolean(), reason: z.string().optional() })
  .openapi('WorkspaceAgentHealth');
export type AgentHealthJson = z.infer<typeof agentHealthSchema>;

export const appSchema = z
  .object({
    id: z.string().uuid(),
    url: z.string(),
    external: z.boolean(),
    slug: z.string(),
    display_name: z.string(),
    command: z.string().optional(),
    icon: z.string(),
    subdomain: z.boolean(),
    sharing_level: z.string(),
    healthcheck: z.object({ url: z.string(), interval: z.number().int(), threshold: z.number().int() }),
    health: z.enum(APP_HEALTHS),
    hidden: z.boolean(),
    open_in: z.string(),
    statuses: z.array(appStatusSchema),
  })
  .openapi('WorkspaceApp');

export const agentSchema = z
  .object({
    id: z.string().uuid(),
    parent_id: z.string().uuid().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    first_connected_at: z.string().optional(),
    last_connected_at: z.string().optional(),
    ready_at: z.string().optional(),
    status: z.enum(['connecting', 'connected', 'disconnected', 'timeout']),
    lifecycle_state: z.enum(AGENT_LIFECYCLES),
    name: z.string(),
    resource_id: z.string().uuid(),
    architecture: z.string(),
    environment_variables: z.record(z.string(), z.string()),
    operating_system: z.string(),
    logs_length: z.number().int(),
    logs_overflowed: z.boolean(),
    version: z.string(),
    api_version: z.string(),
    apps: z.array(appSchema),
    connection_timeout_seconds: z.number().int(),
    troubleshooting_url: z.string(),
    subsystems: z.array(z.string()),
    health: agentHealthSchema,
    display_apps: z.array(z.string()),
    log_sources: z.array(z.unknown()),
    scripts: z.array(z.unknown()),
    startup_script_behavior: z.string(),
  })
  .openapi('WorkspaceAgent');
export type AgentJson = z.infer<typeof agentSchema>;

export function appStatusJson(s: AppStatusRecord): AppStatusJson {
  return {
    id: s.id,
    created_at: s.createdAt,
    workspace_id: s.workspaceId,
    agent_id: s.agentId,
    app_id: s.appId,
    state: s.state,
    message: s.message,
    uri: s.uri ?? '',
    icon: '',
    needs_user_attention: false,
  };
}

type ConnectionStatus = AgentJson['status'];

/**
 * taskd agents report over HTTP instead of holding a tunnel open, so "connected" means the agent
 * has called in, or its lifecycle moved past `created` (drivers that play the agent themselves
 * report lifecycle without ever connecting); `off` means it is gone.
 */
export function agentConnection(a: { lifecycle: AgentLifecycle; firstConnectedAt: string | null }): ConnectionStatus {
  if (a.lifecycle === 'off') return 'disconnected';
  if (a.firstConnectedAt !== null || a.lifecycle !== 'created') return 'connected';
  return 'connecting';
}

/** Coder's agent health rules, in its order (start_timeout counts as a soft issue: healthy). */
export function agentHealth(a: { lifecycle: AgentLifecycle; firstConnectedAt: string | null }): AgentHealthJson {
  const status = agentConnection(a);
  if (status !== 'connected' && a.lifecycle === 'off') return { healthy: false, reason: 'agent is not running' };
  if (status === 'connecting') return { healthy: false, reason: 'agent has not yet connected' };
  if (a.lifecycle === 'start_error') return { healthy: false, reason: 'agent startup script exited with an error' };
  if (a.lifecycle === 'shutting_down' || a.lifecycle === 'shutdown_timeout' || a.lifecycle === 'shutdown_error') {
    return { healthy: false, reason: 'agent is shutting down' };
  }
  return { healthy: true };
}

function appJson(p: AppRecord): z.infer<typeof appSchema> {
  return {
    id: p.id,
    url: p.url,
    external: false,
    slug: p.slug,
    display_name: p.displayName,
    ...(p.command ? { command: p.command } : {}),
    icon: '',
    subdomain: false,
    sharing_level: 'owner',
    healthcheck: p.healthcheck
      ? { url: p.healthcheck.url, interval: p.healthcheck.interval_s, threshold: p.healthcheck.threshold }
      : { url: '', interval: 0, threshold: 0 },
    health: p.health,
    hidden: false,
    open_in: 'slim-window',
    statuses: p.statuses.map(appStatusJson),
  };
}

export function agentJson(a: AgentRecord, resourceId: string): AgentJson {
  return {
    id: a.id,
    parent_id: null,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
    ...(a.firstConnectedAt ? { first_connected_at: a.firstConnectedAt } : {}),
    ...(a.lastConnectedAt ? { last_connected_at: a.lastConnectedAt } : {}),
    ...(a.lifecycle === 'ready' && a.lifecycleChangedAt ? { ready_at: a.lifecycleChangedAt } : {}),
    status: agentConnection(a),
    lifecycle_state: a.lifecycle,
    name: a.name,
    resource_id: resourceId,
    architecture: '',
    environment_variables: {},
    operating_system: '',
    logs_length: 0,
    logs_overflowed: false,
    version: '',
    api_version: '',
    apps: a.apps.map(appJson),
    connection_timeout_seconds: 0,
    troubleshooting_url: '',
    subsystems: [],
    health: agentHealth(a),
    display_apps: [],
    log_sources: [],
    scripts: [],
    startup_script_behavior: 'non-blocking',
  };
}
