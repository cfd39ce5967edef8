import { NOTIFICATION_TEMPLATES } from '../domain/app-status';
import type { EnqueueTaskNotificationInput } from '../workflows/contracts';
import { enqueueNotification, taskNotificationSubject } from '../db/notifications';
import { fork } from '../db/sql';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ActivityDeps } from './deps';

// Task Paused / Task Resumed into the notification outbox (db/notifications.ts); the worker's
// delivery loop sends them.

/** Task Paused / Task Resumed of a build into the outbox, once per build (its dedupe key). */
export async function enqueueTaskNotification(em: EntityManager, input: EnqueueTaskNotificationInput): Promise<string | null> {
  const task = await taskNotificationSubject(em, input.taskId);
  if (!task) return null;
  const labels: Record<string, string> = { task: task.name, task_id: input.taskId, workspace: task.workspace };
  const template = input.event.kind === 'paused' ? NOTIFICATION_TEMPLATES.task_paused : NOTIFICATION_TEMPLATES.task_resumed;
  if (input.event.kind === 'paused') labels.pause_reason = input.event.pauseReason;
  const key = input.event.kind === 'paused' ? 'task_paused' : 'task_resumed';
  return enqueueNotification(em, { templateId: template.id, userId: task.owner_id, labels, dedupeKey: `${key}:${input.buildId}` });
}

export function createNotifyActivities(deps: ActivityDeps) {
  return {
    /** Task Paused / Task Resumed for a pause/resume build (§3.9, §7.2), once per build. */
    async enqueueNotification(input: EnqueueTaskNotificationInput): Promise<{ messageId: string | null }> {
      return { messageId: await enqueueTaskNotification(fork(deps.orm), input) };
    },
  };
}
