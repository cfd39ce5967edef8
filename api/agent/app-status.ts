import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../lib/logger';
import type { AgentActor } from '../context';
import { ApiError } from '../errors';
import { enqueueNotification } from '../../activities/notify';
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
}

interface NotificationContext {
  task_id: string | null;
  task_name: string | null;
  task_app_id: string | null;
  workspace_name: string;
  lifecycle: string;
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
  const [app] = await em.execute<{ id: string }[]>(
    'select id from workspace_apps where agent_id = ? and slug = ?',
    [agent.agentId, report.app_slug],
    'all',
  );
  if (!app) throw new ApiError(400, 'Failed to get workspace app.', `No app found with slug "${report.app_slug}"`);

  const stored = await em.transactional(async (tx) => {
    // the previous status is read under a lock on the app, so two racing reports see each other
    await tx.execute('select id from workspace_apps where id = ? for update', [app.id], 'all');
    const [previous] = await tx.execute<{ state: AppStatusState }[]>(
      'select state from workspace_app_statuses where app_id = ? order by created_at desc, id desc limit 1',
      [app.id],
      'all',
    );
    const [row] = await tx.execute<{ id: string; created_at: string }[]>(
      `insert into workspace_app_statuses (id, workspace_id, agent_id, app_id, state, message, uri, created_at)
       values (?, ?, ?, ?, ?, ?, ?, clock_timestamp())
       returning id, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at`,
      [randomUUID(), agent.workspaceId, agent.agentId, app.id, state, message, report.uri || null],
      'all',
    );
    return { row: row!, previous: previous?.state ?? null };
  });

  await notifyStateChange(em, log, agent, app.id, stored.previous, state).catch((err: unknown) =>
    log.warn({ err }, 'task state notification not enqueued'),
  );
  return {
    id: stored.row.id,
    appId: app.id,
    state,
    message,
    uri: report.uri || null,
    createdAt: stored.row.created_at,
  };
}

async function notifyStateChange(
  em: EntityManager,
  log: Logger,
  agent: AgentActor,
  appId: string,
  previousState: AppStatusState | null,
  newState: AppStatusState,
): Promise<void> {
  const [ctx] = await em.execute<NotificationContext[]>(
    `select t.id as task_id, t.name as task_name, twa.workspace_app_id as task_app_id, w.name as workspace_name,
            a.lifecycle_state as lifecycle
       from workspace_agents a
       join workspaces w on w.id = ?
       left join tasks t on t.workspace_id = w.id and t.deleted_at is null
       left join lateral (select workspace_app_id from task_workspace_apps x where x.task_id = t.id
                           order by x.workspace_build_number desc limit 1) twa on true
      where a.id = ?`,
    [agent.workspaceId, agent.agentId],
    'all',
  );
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
