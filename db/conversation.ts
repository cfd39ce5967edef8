import type { EntityManager } from '@mikro-orm/postgresql';
import { goTime, placeholders, rfc3339, sql, sqlOne } from './sql';

// A task's conversation as its workspace agent uploads it: the log snapshot of spec §4.1 (one per
// task) and, beyond Coder, every message the AI app produced (task_messages), so a paused task
// shows all of it. Written only through the agent's routes; removed with the task.

/** The task an agent names, with its workspace and whether it is deleted. */
export function taskOfUpload(em: EntityManager, taskId: string): Promise<{ id: string; workspace_id: string | null; deleted: boolean } | null> {
  return sqlOne(em, 'select id, workspace_id, deleted_at is not null as deleted from tasks where id = ?', [taskId]);
}

export interface SnapshotMessage {
  id: number;
  content: string;
  role: string;
  time: string;
}

/** One snapshot per task; an upload replaces the previous one (§4.1 step 7). */
export async function storeSnapshot(em: EntityManager, taskId: string, messages: SnapshotMessage[]): Promise<void> {
  const envelope = { format: 'agentapi', data: { messages } };
  await sql(
    em,
    `insert into task_snapshots (task_id, log_snapshot, log_snapshot_created_at) values (?, ?::jsonb, now())
     on conflict (task_id) do update set log_snapshot = excluded.log_snapshot,
                                         log_snapshot_created_at = excluded.log_snapshot_created_at`,
    [taskId, JSON.stringify(envelope)],
  );
}

/** The stored snapshot, as uploaded, with when it was taken (RFC 3339). */
export function taskSnapshot(em: EntityManager, taskId: string): Promise<{ log_snapshot: unknown; created_at: string } | null> {
  return sqlOne(em, `select log_snapshot, ${rfc3339('log_snapshot_created_at')} as created_at from task_snapshots where task_id = ?`, [taskId]);
}

/** The stored messages of a task in id order (times as Go formats them). */
export async function taskMessages(em: EntityManager, taskId: string): Promise<{ id: number; role: string; content: string; time: string }[]> {
  const rows = await sql<{ message_id: number; role: string; content: string; time: string }>(
    em,
    `select message_id, role, content, ${rfc3339('time')} as time from task_messages where task_id = ? order by message_id`,
    [taskId],
  );
  return rows.map((r) => ({ id: r.message_id, role: r.role, content: r.content, time: goTime(r.time) }));
}

export interface ConversationMessage {
  id: number;
  role: 'user' | 'agent';
  content: string;
  time: string;
}

interface StoredMessage {
  message_id: number;
  role: string;
  content: string;
  time: string;
}

/**
 * Whether the app is telling a different conversation than the one stored from `base` on: a message
 * it sends under the id of a stored message that can no longer change (every message but the last
 * is final in AgentAPI) and differs from it. A restored app (state file) replays its messages
 * unchanged; one that lost its state starts over at 0 with a new first message.
 */
function startedOver(incoming: ConversationMessage[], stored: Map<number, StoredMessage>, base: number, lastId: number): boolean {
  return incoming.some((m) => {
    const s = stored.get(base + m.id);
    if (!s || s.message_id === lastId) return false;
    return s.role !== m.role || s.content !== m.content || new Date(s.time).getTime() !== new Date(m.time).getTime();
  });
}

/**
 * Upserts messages by (task, id): AgentAPI ids are positions and only the last message changes,
 * so the newest content of an id wins. When the app has started a new conversation (it lost its
 * state), the new one is stored after the old, which stays readable. A user message means the
 * prompt reached the AI app.
 */
/** task_messages.message_id (and tasks.conversation_base) are PostgreSQL integers */
const INT32_MAX = 2 ** 31 - 1;

/** false, writing nothing, when an id would be stored past PostgreSQL's integer (after many start-overs). */
export async function storeMessages(em: EntityManager, taskId: string, messages: ConversationMessage[]): Promise<boolean> {
  // one row may be written once per statement: the last version of an id in the batch wins
  const latest = [...new Map(messages.map((m) => [m.id, m])).values()];
  if (latest.length === 0) return true;
  return em.transactional(async (t) => {
    const tx = t as EntityManager;
    // forwards of one task are serialised here: each decides on what the previous one wrote
    const task = await sqlOne<{ base: number; last: number | null }>(
      tx,
      `select t.conversation_base as base, (select max(m.message_id) from task_messages m where m.task_id = t.id) as last
         from tasks t where t.id = ? for update`,
      [taskId],
    );
    let base = task?.base ?? 0;
    const last = task?.last ?? null;
    const fits = (from: number) => from + Math.max(...latest.map((m) => m.id)) <= INT32_MAX;
    if (!fits(base)) return false;
    if (last !== null && last >= base) {
      const rows = await sql<StoredMessage>(
        tx,
        `select message_id, role, content, ${rfc3339('time')} as time from task_messages
          where task_id = ? and message_id in (${placeholders(latest.length)})`,
        [taskId, ...latest.map((m) => base + m.id)],
      );
      if (startedOver(latest, new Map(rows.map((r) => [r.message_id, r])), base, last)) {
        if (!fits(last + 1)) return false;
        base = last + 1;
        await sql(tx, 'update tasks set conversation_base = ? where id = ?', [base, taskId]);
      }
    }
    const values = latest.map(() => '(?, ?, ?, ?, ?::timestamptz)').join(', ');
    const params = latest.flatMap((m) => [taskId, base + m.id, m.role, m.content, m.time]);
    await sql(
      tx,
      `insert into task_messages (task_id, message_id, role, content, time) values ${values}
       on conflict (task_id, message_id) do update set role = excluded.role, content = excluded.content, time = excluded.time`,
      params,
    );
    if (latest.some((m) => m.role === 'user')) {
      await sql(tx, 'update tasks set prompt_delivered_at = now() where id = ? and prompt_delivered_at is null', [taskId]);
    }
    return true;
  });
}
