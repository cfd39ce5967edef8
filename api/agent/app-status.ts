import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../lib/logger';
import type { AgentActor } from '../context';
import { ApiError } from '../errors';
import { appendAppStatus } from '../../db/agents';
import { appIdBySlug, appStatusNotificationRow } from '../../db/agent-access';
import { enqueueNotification } from '../../db/notifications';
import {
  NOTIFICATION_TEMPLATES,
  sanitizeStatusMessage,
  stateNotification,
  validateAppStatusReport,
  type AppStatusReport,
} from '../../domain/app-status';
import { AGENT_LIFECYCLES, type AgentLifecycle, type AppStatusState } from '../../domain/task-status';

// PATCH /workspaceagents/me/app-status (spec §4.2): validate, store a new status row, then decide
// the task state notification of §7.1. The notification is best effort: the status is the fact,
// and an outbox failure is logged without failing the agent's report.

export interface StoredAppStatus {
  id: string;
  appId: string;
  state: AppStatusState;
  message: string;
  uri: string | null;
  createdAt: string;
  /** the state the app reported before this one */
  previous: AppStatusState | null;
}

export async function recordAppStatus(
  em: EntityManager,
  log: Logger,
  agent: AgentActor,
  report: AppStatusReport,
): Promise<StoredAppStatus> {
  const invalid = validateAppStatusReport(report);
  if (invalid) throw new ApiError(400, invalid.message, undefined, invalid.validations);
  const state = report.state as AppStatusState;
  const message = sanitizeStatusMessage(report.message);
  const appId = await appIdBySlug(em, agent.agentId, report.app_slug);
  if (!appId) throw new ApiError(400, 'Failed to get workspace app.', `No app found with slug "${report.app_slug}"`);
  const uri = report.uri || null;
  const stored = await appendAppStatus(em, { workspaceId: agent.workspaceId, agentId: agent.agentId, appId, state, message, uri });
  if (!stored) throw new Error('a fresh app status id collided with a stored one');
  await notifyStateChange(em, log, agent, appId, stored.previous, state).catch((err: unknown) =>
    log.warn({ err }, 'task state notification not enqueued'),
  );
  return { id: stored.id, appId, state, message, uri, createdAt: stored.createdAt, previous: stored.previous };
}

async function notifyStateChange(
  em: EntityManager,
  log: Logger,
  agent: AgentActor,
  appId: string,
  previousState: AppStatusState | null,
  newState: AppStatusState,
): Promise<void> {
  const ctx = await appStatusNotificationRow(em, agent);
  if (!ctx) return;
  const lifecycle = (AGENT_LIFECYCLES as readonly string[]).includes(ctx.lifecycle) ? (ctx.lifecycle as AgentLifecycle) : null;
  const key = stateNotification({
    isTaskWorkspace: ctx.task_id !== null,
    agentLifecycle: lifecycle,
    taskAppId: ctx.task_app_id,
    appId,
    previousState,
    newState,
  });
  if (!key || !ctx.task_id || !ctx.task_name) return;
  const template = NOTIFICATION_TEMPLATES[key];
  // Coder lets an identical notification repeat once the minute changes; within a minute it is one
  const minute = new Date().toISOString().slice(0, 16);
  const id = await enqueueNotification(em, {
    templateId: template.id,
    userId: agent.ownerId,
    labels: { task: ctx.task_name, workspace: ctx.workspace_name },
    dedupeKey: `${key}:${ctx.task_id}:${minute}`,
  });
  if (id) log.debug({ notification: key, taskId: ctx.task_id }, 'task state notification enqueued');
}
