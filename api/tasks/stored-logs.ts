import { z } from 'zod';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiError } from '../errors';
import { orInternal } from './internal';
import { taskMessages, taskSnapshot } from '../../db/conversation';
import { goTime } from '../../db/sql';
import { InvalidMessageRoleError, messagesToLogs, type AgentApiMessage, type TaskLogEntry } from '../../domain/log-snapshot';

// Logs of a task that is not running (spec §3.8): beyond Coder, the whole conversation the agent
// forwarded (task_messages) when there is one; otherwise the snapshot the agent uploaded on stop,
// decoded with every error Coder reports for a bad one.

const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

export interface StoredLogs {
  logs: TaskLogEntry[];
  snapshot: true;
  snapshot_at?: string;
}

// What Go's decoder accepts for the envelope: missing fields are zero values, wrong types fail.
const envelopeSchema = z.object({
  format: z.string().nullish(),
  data: z
    .object({
      messages: z
        .array(
          z.object({
            id: z.number().int(),
            content: z.string().nullish(),
            role: z.string().nullish(),
            time: z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'not an RFC 3339 time').nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});

function toLogs(messages: AgentApiMessage[]): TaskLogEntry[] {
  try {
    return messagesToLogs(messages);
  } catch (err) {
    if (err instanceof InvalidMessageRoleError) throw new ApiError(500, 'Invalid snapshot data.', err.message);
    throw err;
  }
}

async function conversationLogs(em: EntityManager, taskId: string): Promise<StoredLogs | null> {
  const messages = await orInternal('Internal error fetching task snapshot.', () => taskMessages(em, taskId));
  const last = messages.at(-1);
  if (!last) return null;
  return { logs: toLogs(messages), snapshot: true, snapshot_at: last.time };
}

async function snapshotLogs(em: EntityManager, taskId: string): Promise<StoredLogs> {
  const row = await orInternal('Internal error fetching task snapshot.', () => taskSnapshot(em, taskId));
  if (!row) return { logs: [], snapshot: true };
  const decoded = envelopeSchema.safeParse(row.log_snapshot);
  if (!decoded.success) {
    throw new ApiError(500, 'Internal error decoding task snapshot.', decoded.error.issues[0]?.message);
  }
  const format = decoded.data.format ?? '';
  if (format !== 'agentapi') {
    throw new ApiError(500, 'Unsupported task snapshot format.', `Expected format "agentapi", got "${format}".`);
  }
  const messages = (decoded.data.data?.messages ?? []).map((m) => ({
    id: m.id,
    content: m.content ?? '',
    role: m.role ?? '',
    time: m.time ?? GO_ZERO_TIME,
  }));
  return { logs: toLogs(messages), snapshot: true, snapshot_at: goTime(row.created_at) };
}

export async function storedTaskLogs(em: EntityManager, taskId: string): Promise<StoredLogs> {
  return (await conversationLogs(em, taskId)) ?? snapshotLogs(em, taskId);
}
