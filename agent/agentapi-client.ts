import { z } from 'zod';
import type { AgentMessage, AgentStatus, ConversationRole, MessageType } from './agentapi-wire';
import { SseEventTooLargeError, SseParser, type SseFrame } from './sse-parser';

export type { AgentMessage } from './agentapi-wire';

/**
 * `transport`: no HTTP answer (refused, reset, timed out). `http`: a non-2xx answer; `status` and
 * `body` hold it. `protocol`: a 2xx answer that does not match the AgentAPI schema, which coderd
 * treats as "Invalid task app response" rather than as the app being down.
 */
export type AgentApiErrorKind = 'transport' | 'http' | 'protocol';

export class AgentApiError extends Error {
  readonly kind: AgentApiErrorKind;
  readonly status?: number;
  readonly body?: string;

  constructor(kind: AgentApiErrorKind, message: string, extra: { status?: number; body?: string; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'AgentApiError';
    this.kind = kind;
    this.status = extra.status;
    this.body = extra.body;
  }
}

export type AgentEvent =
  | { type: 'message_update'; id: number; role: ConversationRole; message: string; time: string }
  | { type: 'status_change'; status: AgentStatus; agent_type: string };

export type AgentApiClientOptions = {
  /** Per request; for subscribeEvents only until the stream is open. Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Cap on one SSE event, in characters of decoded text. Default 1 MiB. */
  maxEventSize?: number;
};

// Extra members such as `$schema` and `transport` are stripped, as the Go SDK ignores them.
const statusSchema = z.object({ status: z.enum(['running', 'stable']), agent_type: z.string() });
const messageSchema = z.object({
  id: z.number().int().nonnegative(),
  content: z.string(),
  role: z.enum(['user', 'agent']),
  time: z.string(),
});
const messagesSchema = z.object({ messages: z.array(messageSchema) });
const messageUpdateSchema = z.object({
  id: z.number().int().nonnegative(),
  role: z.enum(['user', 'agent']),
  message: z.string(),
  time: z.string(),
});

// Error bodies are kept for diagnostics only; a misbehaving app must not balloon our memory.
const MAX_ERROR_BODY = 64 * 1024;

/** Renders a problem+json body the way the official chat UI does: `detail: message, message`. */
function describeBody(body: string): string {
  try {
    const problem = JSON.parse(body) as { detail?: unknown; errors?: Array<{ message?: unknown }> };
    const messages = Array.isArray(problem.errors)
      ? problem.errors.map((e) => e?.message).filter((m): m is string => typeof m === 'string')
      : [];
    if (typeof problem.detail === 'string') {
      return messages.length > 0 ? `${problem.detail}: ${messages.join(', ')}` : problem.detail;
    }
  } catch {
    // Not JSON (the host check answers in plain text): fall through to the raw text.
  }
  return body.trim().slice(0, 200);
}

export class AgentApiClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly maxEventSize: number;

  constructor(baseUrl: string, opts: AgentApiClientOptions = {}) {
    // Keep any path prefix: Coder can route apps under /@owner/workspace.agent/apps/<slug>.
    this.base = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.maxEventSize = opts.maxEventSize ?? 1024 * 1024;
  }

  async getStatus(): Promise<{ status: AgentStatus; agent_type: string }> {
    return this.parse('GET /status', await this.request('GET', '/status'), statusSchema);
  }

  async getMessages(): Promise<AgentMessage[]> {
    return this.parse('GET /messages', await this.request('GET', '/messages'), messagesSchema).messages;
  }

  /** Resolves once the agent accepted the input; a busy agent is an `http` 500 error (§1.4). */
  async postMessage(content: string, type: MessageType): Promise<void> {
    await this.request('POST', '/message', JSON.stringify({ content, type }));
  }

  /**
   * Streams events until `signal` aborts (then resolves) or the stream fails (then rejects; the
   * server also ending the stream counts as failure). Every connection starts with a full replay,
   * so callers reconnect and rebuild their view. Unknown event names, `agent_error` included, are
   * skipped: the Go SDK's habit of dying on them is the bug this client avoids.
   */
  async subscribeEvents(onEvent: (e: AgentEvent) => void, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const conn = new AbortController();
    const abort = (): void => conn.abort();
    signal.addEventListener('abort', abort, { once: true });
    let timedOut = false;
    const connectTimer = setTimeout(() => {
      timedOut = true;
      conn.abort();
    }, this.timeoutMs);
    try {
      let res: Response;
      try {
        res = await this.fetchImpl(`${this.base}/events`, {
          headers: { Accept: 'text/event-stream' },
          signal: conn.signal,
        });
      } catch (err) {
        if (signal.aborted) return;
        const reason = timedOut ? `no response within ${this.timeoutMs} ms` : (err as Error).message;
        throw new AgentApiError('transport', `GET /events: ${reason}`, { cause: err });
      } finally {
        clearTimeout(connectTimer);
      }
      if (!res.ok) {
        const body = (await res.text().catch(() => '')).slice(0, MAX_ERROR_BODY);
        throw new AgentApiError('http', `GET /events: HTTP ${res.status}: ${describeBody(body)}`, {
          status: res.status,
          body,
        });
      }
      const contentType = res.headers.get('content-type') ?? '';
      if (!res.body || !contentType.startsWith('text/event-stream')) {
        throw new AgentApiError('protocol', `GET /events: expected text/event-stream, got ${contentType || 'nothing'}`);
      }
      await this.pump(res.body, onEvent, signal);
    } finally {
      signal.removeEventListener('abort', abort);
      // Releases the connection whichever way we leave, including when onEvent threw.
      conn.abort();
    }
  }

  private async pump(body: ReadableStream<Uint8Array>, onEvent: (e: AgentEvent) => void, signal: AbortSignal) {
    const decoder = new TextDecoder();
    const parser = new SseParser((frame) => this.dispatch(frame, onEvent), this.maxEventSize);
    const reader = body.getReader();
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal.aborted) return;
        throw new AgentApiError('transport', `GET /events: stream failed: ${(err as Error).message}`, { cause: err });
      }
      if (signal.aborted) return;
      if (chunk.done) throw new AgentApiError('transport', 'GET /events: stream closed by the server');
      try {
        parser.push(decoder.decode(chunk.value, { stream: true }));
      } catch (err) {
        if (!(err instanceof SseEventTooLargeError)) throw err;
        throw new AgentApiError('protocol', `GET /events: ${err.message}`, { cause: err });
      }
    }
  }

  private dispatch(frame: SseFrame, onEvent: (e: AgentEvent) => void): void {
    if (frame.event === 'message_update') {
      const data = this.parse('message_update event', frame.data, messageUpdateSchema);
      onEvent({ type: 'message_update', ...data });
    } else if (frame.event === 'status_change') {
      const data = this.parse('status_change event', frame.data, statusSchema);
      onEvent({ type: 'status_change', ...data });
    }
  }

  private async request(method: 'GET' | 'POST', path: string, body?: string): Promise<string> {
    const what = `${method} ${path}`;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers: body === undefined ? { Accept: 'application/json' } : { 'Content-Type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new AgentApiError('transport', `${what}: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok) {
      throw new AgentApiError('http', `${what}: HTTP ${res.status}: ${describeBody(text)}`, {
        status: res.status,
        body: text.slice(0, MAX_ERROR_BODY),
      });
    }
    return text;
  }

  private parse<T>(what: string, text: string, schema: z.ZodType<T>): T {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new AgentApiError('protocol', `${what}: invalid JSON: ${(err as Error).message}`, { body: text.slice(0, MAX_ERROR_BODY) });
    }
    const result = schema.safeParse(json);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'body';
      throw new AgentApiError('protocol', `${what}: unexpected response at ${where}: ${issue?.message}`, {
        body: text.slice(0, MAX_ERROR_BODY),
      });
    }
    return result.data;
  }
}
