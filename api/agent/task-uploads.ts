import type { EntityManager } from '@mikro-orm/postgresql';
import type { AgentActor } from '../context';
import { ApiError, dependencyDown, INTERNAL_DETAIL, notFound, withCause } from '../errors';
import { parseUuid } from '../../domain/ids';
import { replaceNul } from '../middleware/no-nul';
import { rfc3339 } from '../../db/sql';

// What an agent uploads about its task: the log snapshot of spec §4.1 (checks in the stated order,
// the task before the body, so an agent cannot make the server read 64 KiB for nothing) and, beyond
// Coder, the conversation itself, message by message, so a paused task shows all of it.

export const SNAPSHOT_BODY_LIMIT = 65_536;

/** Go's uuid.Parse error text, which Coder puts in the detail. */
function uuidParseError(s: string): string {
  return [32, 36, 38, 45].includes(s.length) ? 'invalid UUID format' : `invalid UUID length: ${s.length}`;
}

export function parseTaskParam(raw: string): string {
  const id = parseUuid(raw);
  if (!id) throw new ApiError(400, 'Invalid task ID format.', uuidParseError(raw));
  return id;
}

/** The task, if it is live and belongs to the agent's workspace; 404 otherwise. */
export async function loadAgentTask(em: EntityManager, agent: AgentActor, taskId: string): Promise<{ id: string }> {
  let rows: { id: string; workspace_id: string | null; deleted: boolean }[];
  try {
    rows = await em.execute(
      'select id, workspace_id, deleted_at is not null as deleted from tasks where id = ?',
      [taskId],
      'all',
    );
  } catch (err) {
    if (dependencyDown(err)) throw err;
    throw withCause(new ApiError(500, 'Internal error fetching task.', INTERNAL_DETAIL), err);
  }
  const task = rows[0];
  if (!task || task.deleted || task.workspace_id !== agent.workspaceId) throw notFound();
  return { id: task.id };
}

/** `format` is required and the only query parameter allowed (§4.1 step 2-3). */
export function checkSnapshotQuery(url: string): void {
  const params = new URL(url).searchParams;
  const validations: { field: string; detail: string }[] = [];
  const format = params.get('format');
  if (!format) validations.push({ field: 'format', detail: 'Query param "format" is required and cannot be empty' });
  for (const key of new Set(params.keys())) {
    if (key !== 'format') validations.push({ field: key, detail: `Query param "${key}" is not a valid query param` });
  }
  if (validations.length > 0) throw new ApiError(400, 'Invalid query parameters.', undefined, validations);
  if (format !== 'agentapi') {
    throw new ApiError(400, 'Invalid format parameter.', `Only "agentapi" format is currently supported, got "${format}".`);
  }
}

/** Reads at most `limit` bytes of the body; null when it is longer. */
export async function readCappedBody(req: Request, limit: number): Promise<Buffer | null> {
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // leave the rest unread rather than cancel: cancelling tears the socket down before the
      // 400 goes out, and the server's overall body limit still bounds what arrives
      reader.releaseLock();
      return null;
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

export interface SnapshotMessage {
  id: number;
  content: string;
  role: string;
  time: string;
}

const decodeFailed = () => new ApiError(400, 'Failed to decode request payload.');
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Decodes the snapshot body the way Go decodes it into `{messages []Message}`: wrong JSON types are
 * decode errors, missing fields take their zero values, unknown fields are dropped.
 */
export function decodeSnapshotBody(body: Buffer): SnapshotMessage[] {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw decodeFailed();
  }
  if (json !== null && (typeof json !== 'object' || Array.isArray(json))) throw decodeFailed();
  const messages = (json as { messages?: unknown } | null)?.messages;
  if (messages === undefined || messages === null) {
    throw new ApiError(400, 'Invalid agentapi payload structure.', 'Missing required "messages" field.');
  }
  if (!Array.isArray(messages)) throw decodeFailed();
  return messages.map((m: unknown) => {
    if (m === null) return { id: 0, content: '', role: '', time: '0001-01-01T00:00:00Z' };
    if (typeof m !== 'object' || Array.isArray(m)) throw decodeFailed();
    const { id = 0, content = '', role = '', time = '0001-01-01T00:00:00Z' } = m as Record<string, unknown>;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw decodeFailed();
    if (typeof content !== 'string' || typeof role !== 'string') throw decodeFailed();
    if (typeof time !== 'string' || !RFC3339.test(time)) throw decodeFailed();
    // jsonb cannot hold NUL (22P05)
    return { id, content: replaceNul(content), role: replaceNul(role), time };
  });
}

/** One snapshot per task; an upload replaces the previous one (§4.1 step 7). */
export async function storeSnapshot(em: EntityManager, taskId: string, messages: SnapshotMessage[]): Promise<void> {
  const envelope = { format: 'agentapi', data: { messages } };
  await em.execute(
    `insert into task_snapshots (task_id, log_snapshot, log_snapshot_created_at) values (?, ?::jsonb, now())
     on conflict (task_id) do update set log_snapshot = excluded.log_snapshot,
                                         log_snapshot_created_at = excluded.log_snapshot_created_at`,
    [taskId, JSON.stringify(envelope)],
    'run',
  );
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
export async function storeMessages(em: EntityManager, taskId: string, messages: ConversationMessage[]): Promise<void> {
  // one row may be written once per statement: the last version of an id in the batch wins
  const latest = [...new Map(messages.map((m) => [m.id, m])).values()];
  if (latest.length === 0) return;
  await em.transactional(async (tx) => {
    // forwards of one task are serialised here: each decides on what the previous one wrote
    const [task] = await tx.execute<{ base: number; last: number | null }[]>(
      `select t.conversation_base as base, (select max(m.message_id) from task_messages m where m.task_id = t.id) as last
         from tasks t where t.id = ? for update`,
      [taskId],
    );
    let base = task?.base ?? 0;
    const last = task?.last ?? null;
    if (last !== null && last >= base) {
      const rows = await tx.execute<StoredMessage[]>(
        `select message_id, role, content, ${rfc3339('time')} as time from task_messages
          where task_id = ? and message_id in (${latest.map(() => '?').join(', ')})`,
        [taskId, ...latest.map((m) => base + m.id)],
      );
      if (startedOver(latest, new Map(rows.map((r) => [r.message_id, r])), base, last)) {
        base = last + 1;
        await tx.execute('update tasks set conversation_base = ? where id = ?', [base, taskId], 'run');
      }
    }
    const values = latest.map(() => '(?, ?, ?, ?, ?::timestamptz)').join(', ');
    const params = latest.flatMap((m) => [taskId, base + m.id, m.role, m.content, m.time]);
    await tx.execute(
      `insert into task_messages (task_id, message_id, role, content, time) values ${values}
       on conflict (task_id, message_id) do update set role = excluded.role, content = excluded.content, time = excluded.time`,
      params,
      'run',
    );
    if (latest.some((m) => m.role === 'user')) {
      await tx.execute('update tasks set prompt_delivered_at = now() where id = ? and prompt_delivered_at is null', [taskId], 'run');
    }
  });
}
