import type { EntityManager } from '@mikro-orm/postgresql';
import type { AgentActor } from '../context';
import { ApiError, dependencyDown, INTERNAL_DETAIL, notFound, withCause } from '../errors';
import { parseUuid } from '../../domain/ids';
import { replaceNul } from '../middleware/unstorable-text';
import { taskOfUpload, type SnapshotMessage } from '../../db/conversation';

// What an agent uploads about its task, checked at the edge: the log snapshot of spec §4.1 (checks in
// the stated order, the task before the body, so an agent cannot make the server read 64 KiB for
// nothing). What is stored, and how, is db/conversation.ts.

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
  let task: Awaited<ReturnType<typeof taskOfUpload>>;
  try {
    task = await taskOfUpload(em, taskId);
  } catch (err) {
    if (dependencyDown(err)) throw err;
    throw withCause(new ApiError(500, 'Internal error fetching task.', INTERNAL_DETAIL), err);
  }
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
