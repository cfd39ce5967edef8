import { ago } from './output';
import type { Task, TaskLogEntry } from './tasks-api';

// Table columns of tasks and logs: the names Coder's CLI accepts for -c, each computed from the
// API objects.

export const TASK_COLUMNS = [
  'id',
  'name',
  'display name',
  'owner',
  'owner id',
  'organization id',
  'template',
  'template id',
  'template version id',
  'workspace',
  'workspace id',
  'workspace status',
  'workspace build number',
  'workspace agent id',
  'workspace agent lifecycle',
  'workspace app id',
  'healthy',
  'status',
  'state',
  'message',
  'uri',
  'state changed',
  'initial prompt',
  'created at',
  'updated at',
];

export const LIST_DEFAULT_COLUMNS = ['name', 'status', 'state', 'state changed', 'message'];
export const STATUS_DEFAULT_COLUMNS = ['state changed', 'status', 'healthy', 'state', 'message'];

export const LOG_COLUMNS = ['id', 'type', 'content', 'time'];
export const LOG_DEFAULT_COLUMNS = ['type', 'content'];

/** Agent healthy and neither starting nor shutting down — the status view's "healthy". */
export function taskHealthy(t: Task): boolean {
  const lifecycle = t.workspace_agent_lifecycle;
  return (
    t.workspace_agent_health?.healthy === true &&
    lifecycle !== null &&
    !['created', 'starting'].includes(lifecycle) &&
    !['shutting_down', 'shutdown_timeout', 'shutdown_error', 'off'].includes(lifecycle)
  );
}

/**
 * One table row of a task. "state changed" is the age of current_state; for `status` it falls
 * back to the task's updated_at when no state was reported yet (as Coder's status view does).
 */
export function taskRow(t: Task, opts: { now?: number; changedFallback?: boolean } = {}): Record<string, string> {
  const now = opts.now ?? Date.now();
  const changed = t.current_state ? ago(t.current_state.timestamp, now) : opts.changedFallback ? ago(t.updated_at, now) : '';
  return {
    id: t.id,
    name: t.name,
    'display name': t.display_name,
    owner: t.owner_name,
    'owner id': t.owner_id,
    'organization id': t.organization_id,
    template: t.template_name,
    'template id': t.template_id,
    'template version id': t.template_version_id,
    workspace: t.workspace_name,
    'workspace id': t.workspace_id ?? '',
    'workspace status': t.workspace_status ?? '',
    'workspace build number': t.workspace_build_number ? String(t.workspace_build_number) : '',
    'workspace agent id': t.workspace_agent_id ?? '',
    'workspace agent lifecycle': t.workspace_agent_lifecycle ?? '',
    'workspace app id': t.workspace_app_id ?? '',
    healthy: String(taskHealthy(t)),
    status: t.status,
    state: t.current_state?.state ?? '',
    message: t.current_state?.message ?? '',
    uri: t.current_state?.uri ?? '',
    'state changed': changed,
    'initial prompt': t.initial_prompt,
    'created at': t.created_at,
    'updated at': t.updated_at,
  };
}

/** What `status --watch` compares to decide whether to print: status, health, state and message. */
export function watchKey(t: Task): string {
  return JSON.stringify([t.status, taskHealthy(t), t.current_state?.state ?? '', t.current_state?.message ?? '']);
}

/**
 * `status --watch` ends when the workspace has stopped, or when the agent is up and the task has
 * reported a state other than "working" (it finished or waits for input).
 */
export function watchIsOver(t: Task): boolean {
  if (t.workspace_status === 'stopped') return true;
  if (!taskHealthy(t)) return false;
  return t.current_state !== null && t.current_state.state !== 'working';
}

export function logRow(e: TaskLogEntry): Record<string, string> {
  return { id: String(e.id), type: e.type, content: e.content, time: e.time };
}
