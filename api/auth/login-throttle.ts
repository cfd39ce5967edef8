import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { clearLoginFailures, msUntilNthFailureExpires, recordLoginFailure } from '../../db/login-failures';

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

  async check(em: EntityManager, key: string): Promise<LimitDecision> {
    const waitMs = await msUntilNthFailureExpires(em, hashKey(key), this.opts.windowMs, this.opts.maxFailures);
    if (waitMs === null) return { allowed: true };
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  async fail(em: EntityManager, key: string): Promise<void> {
    await recordLoginFailure(em, hashKey(key), this.opts.windowMs);
  }

  async reset(em: EntityManager, key: string): Promise<void> {
    await clearLoginFailures(em, hashKey(key));
  }
}
