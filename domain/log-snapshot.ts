// Log snapshots (spec §4.1, §3.8). When a workspace stops, the agent uploads the tail of the
// AgentAPI conversation so a paused task still shows its logs. The server refuses bodies over
// 64 KiB, so the agent must shrink the payload itself before posting; these are the rules
// Coder's agentapi shutdown script applies, in the same order.

import { utf8ByteLength, utf8Tail } from './utf8';

export interface AgentApiMessage {
  id: number;
  content: string;
  role: string;
  time: string;
}

export interface TaskLogEntry {
  id: number;
  content: string;
  type: 'input' | 'output';
  time: string;
}

export interface SnapshotFitOptions {
  maxMessages?: number;
  /** Limit for the whole `{"messages":[...]}` body, in UTF-8 bytes. */
  maxBytes?: number;
  /** Bytes of content kept when a single message alone is too big. */
  tailBytes?: number;
}

export const SNAPSHOT_MAX_MESSAGES = 10;
export const SNAPSHOT_MAX_BYTES = 65_536;
export const SNAPSHOT_TAIL_BYTES = 57_344;

function payloadBytes(messages: readonly AgentApiMessage[]): number {
  return utf8ByteLength(JSON.stringify({ messages }));
}

function truncationMarker(tailBytes: number): string {
  return `[...content truncated, showing last ${Math.round(tailBytes / 1024)}KB...]\n\n`;
}

/**
 * Keeps the tail of one message's content under the marker. Content that JSON-escapes heavily
 * (quotes, control characters) can still overflow after the byte cut, so the tail then shrinks
 * further until the body fits; returns null if not even an empty tail fits.
 */
function truncateSingle<M extends AgentApiMessage>(message: M, maxBytes: number, tailBytes: number): M | null {
  const marker = truncationMarker(tailBytes);
  const runes = Array.from(utf8Tail(message.content, tailBytes));
  const withTail = (n: number): M => ({ ...message, content: marker + runes.slice(runes.length - n).join('') });
  if (payloadBytes([withTail(runes.length)]) <= maxBytes) return withTail(runes.length);
  if (payloadBytes([withTail(0)]) > maxBytes) return null;
  // Binary search for the longest tail that fits; `lo` always fits, `hi + 1` never does.
  let lo = 0;
  let hi = runes.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (payloadBytes([withTail(mid)]) <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  return withTail(lo);
}

/**
 * The messages to upload: the last `maxMessages`, oldest dropped until the JSON body fits in
 * `maxBytes`, and if a single message is still too big only the end of its content (most
 * recent output matters most when resuming). Returns [] when there is nothing to upload,
 * which callers treat as "skip the upload". The input is not modified.
 */
export function fitSnapshotMessages<M extends AgentApiMessage>(
  messages: readonly M[],
  opts: SnapshotFitOptions = {},
): M[] {
  const maxMessages = opts.maxMessages ?? SNAPSHOT_MAX_MESSAGES;
  const maxBytes = opts.maxBytes ?? SNAPSHOT_MAX_BYTES;
  const tailBytes = opts.tailBytes ?? SNAPSHOT_TAIL_BYTES;
  let kept = maxMessages > 0 ? messages.slice(-maxMessages) : [];
  while (kept.length > 1 && payloadBytes(kept) > maxBytes) kept = kept.slice(1);
  const only = kept[0];
  if (kept.length === 1 && only && payloadBytes(kept) > maxBytes) {
    const truncated = truncateSingle(only, maxBytes, tailBytes);
    return truncated ? [truncated] : [];
  }
  return kept;
}

/** A message whose role is neither "user" nor "agent"; the API answers 502 (live) or 500 (snapshot). */
export class InvalidMessageRoleError extends Error {
  override name = 'InvalidMessageRoleError';

  constructor(
    readonly role: string,
    readonly messageId: number,
  ) {
    super(`message ${messageId} has unsupported role ${JSON.stringify(role)}`);
  }
}

/** AgentAPI messages as task log entries, order preserved. */
export function messagesToLogs(messages: readonly AgentApiMessage[]): TaskLogEntry[] {
  return messages.map((m) => {
    if (m.role !== 'user' && m.role !== 'agent') throw new InvalidMessageRoleError(m.role, m.id);
    return { id: m.id, content: m.content, type: m.role === 'user' ? 'input' : 'output', time: m.time };
  });
}
