import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { rfc3339, sql, sqlOne } from './sql';

// The send queue's rows (migration 20261204030000). The API adds and cancels; the task workflow's
// deliverQueuedInput activity claims the oldest open one and marks it delivered.

export type QueuedInputState = 'queued' | 'delivering' | 'delivered' | 'cancelled';

export interface QueuedInput {
  id: string;
  taskId: string;
  input: string;
  state: QueuedInputState;
  createdAt: string;
  idempotencyKey: string | null;
}

interface Row {
  id: string;
  task_id: string;
  input: string;
  state: QueuedInputState;
  created_at: string;
  idempotency_key: string | null;
}

const COLUMNS = `id, task_id, input, state, ${rfc3339('created_at')} as created_at, idempotency_key`;

const toInput = (r: Row): QueuedInput => ({
  id: r.id,
  taskId: r.task_id,
  input: r.input,
  state: r.state,
  createdAt: r.created_at,
  idempotencyKey: r.idempotency_key,
});

/**
 * Queues `input` for the task. With an idempotency key a retried request gets the input it queued
 * first (`created: false`) — or `conflict` when that one holds another text.
 */
export async function enqueueInput(
  em: EntityManager,
  q: { taskId: string; input: string; createdBy: string; idempotencyKey: string | null },
): Promise<{ input: QueuedInput; created: boolean } | 'conflict'> {
  const inserted = await sqlOne<Row>(
    em,
    `insert into task_queued_inputs (id, task_id, input, idempotency_key, created_by) values (?, ?, ?, ?, ?)
     on conflict (task_id, idempotency_key) do nothing returning ${COLUMNS}`,
    [randomUUID(), q.taskId, q.input, q.idempotencyKey, q.createdBy],
  );
  if (inserted) return { input: toInput(inserted), created: true };
  const existing = await sqlOne<Row>(em, `select ${COLUMNS} from task_queued_inputs where task_id = ? and idempotency_key = ?`, [
    q.taskId,
    q.idempotencyKey,
  ]);
  if (!existing) throw new Error('queued input vanished after a key conflict');
  return existing.input === q.input ? { input: toInput(existing), created: false } : 'conflict';
}

/** The inputs not yet delivered (queued or being delivered) of each task, oldest first. */
export async function openQueuedInputs(em: EntityManager, taskIds: string[]): Promise<Map<string, QueuedInput[]>> {
  const byTask = new Map<string, QueuedInput[]>();
  if (taskIds.length === 0) return byTask;
  const rows = await sql<Row>(
    em,
    `select ${COLUMNS} from task_queued_inputs where task_id = any(?::uuid[]) and state in ('queued', 'delivering') order by task_id, seq`,
    [taskIds],
  );
  for (const r of rows) {
    const list = byTask.get(r.task_id) ?? [];
    list.push(toInput(r));
    byTask.set(r.task_id, list);
  }
  return byTask;
}

/** The live task of the workspace when it has inputs queued or being delivered; null otherwise (most reports). */
export async function taskWithOpenQueue(em: EntityManager, workspaceId: string): Promise<string | null> {
  const row = await sqlOne<{ id: string }>(
    em,
    `select t.id from tasks t where t.workspace_id = ? and t.deleted_at is null
        and exists (select 1 from task_queued_inputs q where q.task_id = t.id and q.state in ('queued', 'delivering'))`,
    [workspaceId],
  );
  return row?.id ?? null;
}

/**
 * Cancels a queued input. Returns the state it was found in: only `queued` is cancelled now (a
 * `cancelled` one stays so, answered the same); `delivering` and `delivered` are too late.
 */
export async function cancelQueuedInput(em: EntityManager, taskId: string, id: string): Promise<QueuedInputState | null> {
  const row = await sqlOne<{ state: QueuedInputState }>(
    em,
    `with target as (select id, state from task_queued_inputs where task_id = ? and id = ? for update),
          cancelled as (update task_queued_inputs q set state = 'cancelled', finished_at = now()
                          from target where q.id = target.id and target.state = 'queued' returning q.id)
     select state from target`,
    [taskId, id],
  );
  return row?.state ?? null;
}

/** Cancels every input a deleted task still had queued. */
export async function cancelOpenQueuedInputs(em: EntityManager, taskId: string): Promise<void> {
  await sql(em, `update task_queued_inputs set state = 'cancelled', finished_at = now() where task_id = ? and state = 'queued'`, [taskId]);
}

export interface ClaimedInput {
  id: string;
  input: string;
  state: 'queued' | 'delivering';
  lastMessageId: number | null;
}

/** The oldest open input of the task, locked until the transaction ends; null when none is open. */
export async function lockNextQueuedInput(tx: EntityManager, taskId: string): Promise<ClaimedInput | null> {
  const row = await sqlOne<{ id: string; input: string; state: 'queued' | 'delivering'; last_message_id: number | null }>(
    tx,
    `select id, input, state, last_message_id from task_queued_inputs
      where task_id = ? and state in ('queued', 'delivering') order by seq limit 1 for update`,
    [taskId],
  );
  return row && { id: row.id, input: row.input, state: row.state, lastMessageId: row.last_message_id };
}

export async function markDelivering(tx: EntityManager, id: string, lastMessageId: number): Promise<void> {
  await sql(tx, `update task_queued_inputs set state = 'delivering', delivering_at = now(), last_message_id = ? where id = ?`, [lastMessageId, id]);
}

export async function markDelivered(em: EntityManager, id: string): Promise<void> {
  await sql(em, `update task_queued_inputs set state = 'delivered', finished_at = now() where id = ? and state = 'delivering'`, [id]);
}

export async function countOpenQueuedInputs(em: EntityManager, taskId: string): Promise<number> {
  const row = await sqlOne<{ n: number }>(em, `select count(*)::int as n from task_queued_inputs where task_id = ? and state in ('queued', 'delivering')`, [
    taskId,
  ]);
  return row?.n ?? 0;
}

/** Where a task's queued inputs go: its status and the URL of its AI app; null when the task is gone. */
export async function deliveryTarget(em: EntityManager, taskId: string): Promise<{ status: string; appUrl: string | null } | null> {
  const row = await sqlOne<{ status: string; url: string | null }>(
    em,
    `select t.status, app.url from tasks_with_status t left join workspace_apps app on app.id = t.workspace_app_id where t.id = ?`,
    [taskId],
  );
  return row && { status: row.status, appUrl: row.url };
}
