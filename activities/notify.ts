import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { NOTIFICATION_TEMPLATES } from '../domain/app-status';
import { forkEm, sql, sqlOne } from './db';
import type { ActivityDeps } from './deps';
import type { EnqueueTaskNotificationInput } from './types';

// The notification outbox. Producers (this workflow's activities, the agent's app-status route)
// only insert rows; the delivery loop (worker/notification-delivery.ts) sends them. A dedupe key per
// event plus `on conflict do nothing` makes "exactly one notification per event" a database fact.

export interface NotificationToEnqueue {
  templateId: string;
  userId: string;
  labels: Record<string, string>;
  /** business key of the event, e.g. "task_paused:<build id>" */
  dedupeKey: string;
}

/**
 * Inserts an outbox row unless one with the same dedupe key exists; returns the new row's id, or
 * null for a duplicate. Joins the EntityManager's transaction when it has one, so callers can
 * enqueue together with the change that caused the event.
 */
export async function enqueueNotification(em: EntityManager, n: NotificationToEnqueue): Promise<string | null> {
  const rows = await sql<{ id: string }>(
    em,
    `insert into notification_messages (id, template_id, user_id, labels, dedupe_key, status, attempts, created_at, next_attempt_at)
     values (?, ?, ?, ?::jsonb, ?, 'pending', 0, now(), now())
     on conflict (dedupe_key) do nothing returning id`,
    [randomUUID(), n.templateId, n.userId, JSON.stringify(n.labels), n.dedupeKey],
  );
  return rows[0]?.id ?? null;
}

export function createNotifyActivities(deps: ActivityDeps) {
  return {
    /** Task Paused / Task Resumed for a pause/resume build (§3.9, §7.2), once per build. */
    async enqueueNotification(input: EnqueueTaskNotificationInput): Promise<{ messageId: string | null }> {
      const em = forkEm(deps);
      const task = await sqlOne<{ name: string; owner_id: string; workspace: string }>(
        em,
        'select t.name, t.owner_id, w.name as workspace from tasks t join workspaces w on w.id = t.workspace_id where t.id = ?',
        [input.taskId],
      );
      if (!task) return { messageId: null };
      const labels: Record<string, string> = { task: task.name, task_id: input.taskId, workspace: task.workspace };
      const template =
        input.event.kind === 'paused' ? NOTIFICATION_TEMPLATES.task_paused : NOTIFICATION_TEMPLATES.task_resumed;
      if (input.event.kind === 'paused') labels.pause_reason = input.event.pauseReason;
      const key = input.event.kind === 'paused' ? 'task_paused' : 'task_resumed';
      const messageId = await enqueueNotification(em, {
        templateId: template.id,
        userId: task.owner_id,
        labels,
        dedupeKey: `${key}:${input.buildId}`,
      });
      return { messageId };
    },
  };
}
