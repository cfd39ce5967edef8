import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AgentMessage } from './agentapi-wire';

/**
 * What the built-in agent keeps across restarts. `pendingReplyTo` names a user message whose reply
 * had not finished streaming, so a restarted agent completes that turn instead of leaving the
 * conversation ending on an unanswered user message forever.
 */
export type PersistedConversation = {
  version: 1;
  agentType: string;
  messages: AgentMessage[];
  pendingReplyTo: number | null;
};

export type LoadResult =
  | { kind: 'missing' }
  | { kind: 'loaded'; state: PersistedConversation }
  | { kind: 'invalid'; reason: string };

function isMessageAt(value: unknown, index: number): value is AgentMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    m.id === index &&
    typeof m.content === 'string' &&
    (m.role === 'user' || m.role === 'agent') &&
    typeof m.time === 'string'
  );
}

export function parseState(text: string): LoadResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', reason: `not JSON: ${(err as Error).message}` };
  }
  if (typeof raw !== 'object' || raw === null) return { kind: 'invalid', reason: 'not an object' };
  const s = raw as Record<string, unknown>;
  if (s.version !== 1) return { kind: 'invalid', reason: `unsupported version ${String(s.version)}` };
  if (!Array.isArray(s.messages) || s.messages.length === 0) {
    return { kind: 'invalid', reason: 'messages must be a non-empty array' };
  }
  // Ids are positions on the wire; a file that breaks that would make every later id wrong.
  const bad = s.messages.findIndex((m, i) => !isMessageAt(m, i));
  if (bad !== -1) return { kind: 'invalid', reason: `message ${bad} is malformed or out of order` };
  const messages = s.messages as AgentMessage[];
  let pendingReplyTo: number | null = null;
  const p = s.pendingReplyTo;
  if (typeof p === 'number' && messages[p]?.role === 'user' && messages.length - p <= 2) {
    pendingReplyTo = p;
  }
  return {
    kind: 'loaded',
    state: {
      version: 1,
      agentType: typeof s.agentType === 'string' ? s.agentType : 'custom',
      messages: messages.map(({ id, content, role, time }) => ({ id, content, role, time })),
      pendingReplyTo,
    },
  };
}

export async function loadState(file: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'invalid', reason: (err as Error).message };
  }
  return parseState(text);
}

let tmpCounter = 0;

/** Write-then-rename so a crash leaves either the old file or the new one, never a torn mix. */
export async function writeFileAtomic(file: string, contents: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(contents, 'utf8');
    // Without fsync the rename can reach disk before the data, which defeats the point.
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Coalesces saves: a burst of changes (a streaming reply) becomes at most one write in flight plus
 * one queued, and each write snapshots the newest state, so files never go backwards in time.
 */
export class StateFileWriter {
  private dirty = false;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => PersistedConversation,
    private readonly onError: (err: Error) => void,
  ) {}

  schedule(): void {
    this.dirty = true;
    if (!this.inFlight) this.inFlight = this.drain();
  }

  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private async drain(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      try {
        await writeFileAtomic(this.file, `${JSON.stringify(this.snapshot(), null, 2)}\n`);
      } catch (err) {
        this.onError(err as Error);
      }
    }
    this.inFlight = null;
  }
}
