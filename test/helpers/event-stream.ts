// A Server-Sent Events client for tests: opens a stream with a session token, records every event,
// and lets a test wait (with a deadline) for the next event that matches.
import { SseParser } from '../../agent/sse-parser';

export interface StreamEvent {
  event: string;
  data: any;
  /** ms since the stream opened */
  at: number;
}

export interface EventStream {
  status: number;
  headers: Headers;
  events: StreamEvent[];
  /** comment lines (the server's keepalives) received so far */
  readonly comments: number;
  /** resolves with the first event (recorded or future) after index `from` that matches */
  next(match: (e: StreamEvent) => boolean, opts?: { timeoutMs?: number; from?: number; what?: string }): Promise<StreamEvent>;
  /** resolves when the server ends the stream */
  ended: Promise<void>;
  close(): void;
}

export async function openEventStream(url: string, token: string): Promise<EventStream> {
  const abort = new AbortController();
  const started = Date.now();
  const res = await fetch(url, { headers: { 'Coder-Session-Token': token, Accept: 'text/event-stream' }, signal: abort.signal });
  const events: StreamEvent[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  const parser = new SseParser((frame) => {
    let data: unknown = frame.data;
    try {
      data = JSON.parse(frame.data);
    } catch {
      // not JSON: kept as text
    }
    events.push({ event: frame.event || 'message', data, at: Date.now() - started });
    wake();
  }, 10_000_000);
  let done = false;
  let comments = 0;
  const ended = (async () => {
    if (!res.body) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        comments += value.split('\n').filter((line) => line.startsWith(':')).length;
        parser.push(value);
      }
    } catch {
      // aborted by close()
    } finally {
      done = true;
      wake();
    }
  })();

  return {
    status: res.status,
    headers: res.headers,
    events,
    get comments() {
      return comments;
    },
    ended,
    close: () => abort.abort(),
    next(match, opts = {}) {
      const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
      let index = opts.from ?? 0;
      return new Promise<StreamEvent>((resolve, reject) => {
        const check = () => {
          for (; index < events.length; index++) {
            if (match(events[index])) {
              finish();
              resolve(events[index]);
              return;
            }
          }
          if (done || Date.now() >= deadline) {
            finish();
            const seen = events.map((e) => e.event).join(', ');
            reject(new Error(`no ${opts.what ?? 'matching event'} ${done ? 'before the stream ended' : 'in time'} (saw: ${seen})`));
          }
        };
        const timer = setTimeout(check, Math.max(0, deadline - Date.now()));
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
