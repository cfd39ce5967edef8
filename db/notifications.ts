import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql, sqlOne } from './sql';

// The notification outbox. Producers (the task workflow's activities, the agent's app-status route)
// only insert rows; the worker's delivery loop sends them. A dedupe key per event plus
// `on conflict do nothing` makes "exactly one notification per event" a database fact.

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

/** What a task notification names: the task, its owner, its workspace. */
export function taskNotificationSubject(em: EntityManager, taskId: string): Promise<{ name: string; owner_id: string; workspace: string } | null> {
  return sqlOne(
    em,
    'select t.name, t.owner_id, w.name as workspace from tasks t join workspaces w on w.id = t.workspace_id where t.id = ?',
    [taskId],
  );
}

export interface OutboxRow {
  id: string;
  template_id: string;
  user_id: string;
  labels: Record<string, string>;
  dedupe_key: string;
  attempts: number;
  created_at: Date | string;
  username: string | null;
}

/** The next due row, locked for the caller's transaction; rows other workers hold are skipped. */
export function lockNextDueNotification(tx: EntityManager): Promise<OutboxRow | null> {
  return sqlOne<OutboxRow>(
    tx,
    `select n.id, n.template_id, n.user_id, n.labels, n.dedupe_key, n.attempts, n.created_at, u.username
       from notification_messages n left join users u on u.id = n.user_id
      where n.status = 'pending' and n.next_attempt_at <= now()
      order by n.next_attempt_at, n.created_at
      limit 1
      for update of n skip locked`,
  );
}

export async function markNotificationSent(tx: EntityManager, id: string, attempts: number): Promise<void> {
  await sql(tx, `update notification_messages set status = 'sent', attempts = ?, sent_at = now(), last_error = null where id = ?`, [attempts, id]);
}

export async function markNotificationFailed(tx: EntityManager, id: string, attempts: number, error: string): Promise<void> {
  await sql(tx, `update notification_messages set status = 'failed', attempts = ?, last_error = ? where id = ?`, [attempts, error, id]);
}

export async function rescheduleNotification(tx: EntityManager, id: string, attempts: number, error: string, delayMs: number): Promise<void> {
  await sql(
    tx,
    `update notification_messages set attempts = ?, last_error = ?, next_attempt_at = now() + (? * interval '1 millisecond')
      where id = ?`,
    [attempts, error, delayMs, id],
  );
}

/** How far behind delivery is: rows not yet sent (waiting or between retries) and the age of the oldest. */
export async function outboxBacklog(em: EntityManager): Promise<{ pending: number; oldestSeconds: number }> {
  const row = await sqlOne<{ pending: number; oldest_s: number }>(
    em,
    `select count(*)::int as pending, coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest_s
       from notification_messages where status = 'pending'`,
  );
  return { pending: row?.pending ?? 0, oldestSeconds: row?.oldest_s ?? 0 };
}
