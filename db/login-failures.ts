import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from './sql';

// Failed logins, keyed by a hash the caller computes. Time is the database's, so API processes with
// drifting clocks agree on what lies inside a window.

const interval = (windowMs: number) => `${Math.max(1, Math.round(windowMs))} milliseconds`;

/**
 * Milliseconds until the `nth` most recent failure of `keyHash` inside the window leaves it, or
 * null when there are fewer than `nth` failures in the window.
 */
export async function msUntilNthFailureExpires(em: EntityManager, keyHash: string, windowMs: number, nth: number): Promise<number | null> {
  const rows = await sql<{ wait_ms: string | number }>(
    em,
    `select extract(epoch from (failed_at + ?::interval - now())) * 1000 as wait_ms from login_failures
      where key_hash = ? and failed_at > now() - ?::interval
      order by failed_at desc offset ? limit 1`,
    [interval(windowMs), keyHash, interval(windowMs), nth - 1],
  );
  return rows.length === 0 ? null : Number(rows[0]!.wait_ms);
}

/** Records a failure and forgets every failure (of anyone) that has left the window. */
export async function recordLoginFailure(em: EntityManager, keyHash: string, windowMs: number): Promise<void> {
  await sql(em, 'insert into login_failures (key_hash) values (?)', [keyHash]);
  await sql(em, 'delete from login_failures where failed_at <= now() - ?::interval', [interval(windowMs)]);
}

export async function clearLoginFailures(em: EntityManager, keyHash: string): Promise<void> {
  await sql(em, 'delete from login_failures where key_hash = ?', [keyHash]);
}
