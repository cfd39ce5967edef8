import type { Logger } from '../lib/logger';
import { TaskdCallError } from './taskd-client';

// Reports to the server, sent one at a time, in the order their kinds were first queued (the
// lifecycle reaches "ready" before the app status that depends on it). While the server is away a
// report is retried with backoff; a newer report of the same kind replaces (or merges into) the one
// waiting, so the latest of each kind is never lost and stale ones are never sent after it.

interface Entry {
  payload: unknown;
  send: (payload: unknown) => Promise<void>;
  merge?: (older: unknown, newer: unknown) => unknown;
}

export interface ReportQueueOptions {
  log: Logger;
  /** the token stopped working (a newer build exists): nothing this agent says matters any more */
  onUnauthorized?: () => void;
  minDelayMs?: number;
  maxDelayMs?: number;
}

export class ReportQueue {
  private readonly order: string[] = [];
  private readonly pending = new Map<string, Entry>();
  private running = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: ReportQueueOptions) {}

  /** Queues `payload` under `key`; `merge(older, newer)` combines it with one still waiting. */
  put<T>(key: string, payload: T, send: (payload: T) => Promise<void>, merge?: (older: T, newer: T) => T): void {
    if (this.stopped) return;
    const waiting = this.pending.get(key);
    const entry: Entry = {
      payload: waiting && merge ? merge(waiting.payload as T, payload) : payload,
      send: send as Entry['send'],
      merge: merge as Entry['merge'],
    };
    this.pending.set(key, entry);
    if (!waiting) this.order.push(key);
    void this.run();
  }

  /** Resolves true once everything queued so far was sent (or dropped), false at the deadline. */
  flush(timeoutMs: number): Promise<boolean> {
    if (!this.running && this.order.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Stops sending; whatever is still queued is dropped. */
  stop(): void {
    this.stopped = true;
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    let delay = this.opts.minDelayMs ?? 250;
    while (!this.stopped && this.order.length > 0) {
      const key = this.order.shift()!;
      const entry = this.pending.get(key)!;
      this.pending.delete(key);
      try {
        await entry.send(entry.payload);
        delay = this.opts.minDelayMs ?? 250;
      } catch (err) {
        const retryable = !(err instanceof TaskdCallError) || err.retryable;
        if (!retryable) {
          this.opts.log.warn({ err: (err as Error).message, report: key }, 'report rejected by the server; dropped');
          if (err instanceof TaskdCallError && err.status === 401) this.opts.onUnauthorized?.();
          continue;
        }
        this.requeueFront(key, entry);
        this.opts.log.info({ err: (err as Error).message, report: key, retryInMs: delay }, 'server unreachable; will retry');
        await new Promise((r) => setTimeout(r, delay * (0.75 + Math.random() * 0.5)));
        delay = Math.min(delay * 2, this.opts.maxDelayMs ?? 5_000);
      }
    }
    this.running = false;
    if (this.order.length === 0 || this.stopped) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private requeueFront(key: string, failed: Entry): void {
    const newer = this.pending.get(key);
    if (newer) {
      newer.payload = newer.merge ? newer.merge(failed.payload, newer.payload) : newer.payload;
      this.order.splice(this.order.indexOf(key), 1);
    } else {
      this.pending.set(key, failed);
    }
    this.order.unshift(key);
  }
}
