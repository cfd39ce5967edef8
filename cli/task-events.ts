import { SseParser } from '../agent/sse-parser';
import { ApiRequestError, ConnectionError, toApiError, type TaskdClient } from './client';
import { taskPath, type Task } from './tasks-api';
import { sleep } from './task-wait';

// `status --watch` follows GET /tasks/{user}/{task}/watch (Server-Sent Events) rather than
// polling: a change shows as soon as the server commits it, and an idle task costs nothing. A
// dropped connection is re-opened (the stream starts with the full state again); a server without
// the endpoint, or one started without its change listener, makes the command fall back to polling.
// `logs --follow` keeps polling GET .../logs: an AI app reached without taskd's workspace agent
// (a fixed app URL) changes its conversation without any database change the stream could see.

/** Events of one task's watch stream, as api/watch/task-watch.ts sends them. */
export interface TaskStreamHandlers {
  /** the Task object, on connect and on every change; true ends the watch */
  onTask?(task: Task): boolean | void;
}

export type TaskStreamEnd = 'done' | 'deleted' | 'unsupported';

/** Bounds one event's size in memory: a Task object or a batch of conversation entries. */
const MAX_EVENT_CHARS = 16 * 1024 * 1024;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

interface StreamOutcome {
  stop: 'done' | 'deleted' | null;
}

async function openOnce(client: TaskdClient, path: string, handlers: TaskStreamHandlers): Promise<StreamOutcome> {
  const abort = new AbortController();
  const headers: Record<string, string> = { Accept: 'text/event-stream', 'User-Agent': 'taskd-cli' };
  if (client.token) headers['Coder-Session-Token'] = client.token;
  let res: Response;
  try {
    res = await fetch(client.url(path), { headers, signal: abort.signal });
  } catch (err) {
    throw new ConnectionError(client.baseUrl, err);
  }
  if (res.status !== 200 || !res.body) {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    throw toApiError({ status: res.status, headers: res.headers, body });
  }
  const outcome: StreamOutcome = { stop: null };
  // A problem is a refusal when the server ends the stream right after it (a revoked session, a
  // task no longer visible); after a passing server error the stream simply goes on.
  let problem: ApiRequestError | null = null;
  const parser = new SseParser((frame) => {
    if (outcome.stop) return;
    let data: unknown;
    try {
      data = JSON.parse(frame.data);
    } catch {
      return;
    }
    if (frame.event !== 'problem') problem = null;
    if (frame.event === 'task') {
      if (handlers.onTask?.(data as Task) === true) outcome.stop = 'done';
    } else if (frame.event === 'deleted') {
      outcome.stop = 'deleted';
    } else if (frame.event === 'problem') {
      const p = data as { message?: string; detail?: string };
      problem = new ApiRequestError(400, p.message ?? 'The watch stream reported a problem.', p.detail);
    }
    if (outcome.stop) abort.abort();
  }, MAX_EVENT_CHARS);
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      parser.push(decoder.decode(chunk, { stream: true }));
      if (outcome.stop) break;
    }
  } catch (err) {
    if (!outcome.stop) throw new ConnectionError(client.baseUrl, err);
  } finally {
    abort.abort();
  }
  if (!outcome.stop && problem) throw problem;
  return outcome;
}

/**
 * Follows one task until a handler ends it, the task is deleted, or (answer 'unsupported') the
 * server cannot stream. Re-connects after a dropped connection with backoff; a server that was
 * reachable once and stays unreachable is reported after the same grace as a single request.
 */
export async function followTask(client: TaskdClient, task: Pick<Task, 'id'>, handlers: TaskStreamHandlers): Promise<TaskStreamEnd> {
  const path = `${taskPath(task)}/watch`;
  let backoff = RECONNECT_MIN_MS;
  let failingSince: number | null = null;
  for (;;) {
    try {
      const { stop } = await openOnce(client, path, handlers);
      if (stop) return stop;
      failingSince = null;
      backoff = RECONNECT_MIN_MS;
    } catch (err) {
      if (err instanceof ApiRequestError) {
        if (err.status === 404 && err.serverMessage === 'Route not found.') return 'unsupported';
        if (err.status === 503 && /live updates/i.test(err.serverMessage)) return 'unsupported';
        if (err.status === 404) return 'deleted';
        if (err.status < 500) throw err;
      } else if (!(err instanceof ConnectionError)) {
        throw err;
      }
      failingSince ??= Date.now();
      if (Date.now() - failingSince > 5 * 60_000) throw err;
    }
    await sleep(backoff);
    backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
  }
}
