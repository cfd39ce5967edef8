// In-memory sliding-window limiter for failed attempts (login). Per process on purpose: it exists to
// make online password guessing slow, not to be a distributed quota, and a restart forgetting it is
// harmless. Memory is bounded: stale keys are dropped, and past maxKeys the oldest are evicted.

export interface FailureLimiterOptions {
  maxFailures: number;
  windowMs: number;
  maxKeys?: number;
}

export type LimitDecision = { allowed: true } | { allowed: false; retryAfterS: number };

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly maxKeys: number;

  constructor(private readonly opts: FailureLimiterOptions) {
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  private recent(key: string, now: number): number[] {
    const cutoff = now - this.opts.windowMs;
    const kept = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (kept.length === 0) this.failures.delete(key);
    else this.failures.set(key, kept);
    return kept;
  }

  check(key: string, now = Date.now()): LimitDecision {
    const recent = this.recent(key, now);
    if (recent.length < this.opts.maxFailures) return { allowed: true };
    // blocked until enough of the window's failures have aged out to drop below the limit
    const unblockAt = recent[recent.length - this.opts.maxFailures] + this.opts.windowMs;
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil((unblockAt - now) / 1000)) };
  }

  fail(key: string, now = Date.now()): void {
    const recent = this.recent(key, now);
    recent.push(now);
    this.failures.delete(key); // re-insert so Map order tracks recency for eviction
    this.failures.set(key, recent.slice(-this.opts.maxFailures));
    while (this.failures.size > this.maxKeys) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }

  reset(key: string): void {
    this.failures.delete(key);
  }
}
