import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';

// Failed logins counted in PostgreSQL, so every API process enforces one limit: at most
// `maxFailures` failures per key (client address and email) in a sliding window of `windowMs`,
// after which attempts are refused until the oldest of those failures ages out. Time is the
// database's, so processes with drifting clocks agree. Keys are stored as SHA-256 only.

export interface LoginThrottleOptions {
  maxFailures: number;
  windowMs: number;
}

export type LimitDecision = { allowed: true } | { allowed: false; retryAfterS: number };

const hashKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

export class LoginThrottle {
  constructor(private readonly opts: LoginThrottleOptions) {}

  private get window(): string {
    return `${Math.max(1, Math.round(this.opts.windowMs))} milliseconds`;
  }

  async check(em: EntityManager, key: string): Promise<LimitDecision> {
    // the maxFailures-th most recent failure inside the window, if there are that many
    const rows = await em.execute<{ wait_ms: string | number }[]>(
      `select extract(epoch from (failed_at + ?::interval - now())) * 1000 as wait_ms from login_failures
        where key_hash = ? and failed_at > now() - ?::interval
        order by failed_at desc offset ? limit 1`,
      [this.window, hashKey(key), this.window, this.opts.maxFailures - 1],
    );
    if (rows.length === 0) return { allowed: true };
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil(Number(rows[0]!.wait_ms) / 1000)) };
  }

  async fail(em: EntityManager, key: string): Promise<void> {
    await em.execute('insert into login_failures (key_hash) values (?)', [hashKey(key)], 'run');
    // whatever left the window is of no use any more, whoever it was for
    await em.execute('delete from login_failures where failed_at <= now() - ?::interval', [this.window], 'run');
  }

  async reset(em: EntityManager, key: string): Promise<void> {
    await em.execute('delete from login_failures where key_hash = ?', [hashKey(key)], 'run');
  }
}
