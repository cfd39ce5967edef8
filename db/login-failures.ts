import type { EntityManager } from '@mikro-orm/postgresql';
import { placeholders, sql } from './sql';

// Failed logins, keyed by hashes the caller computes. Time is the database's, so API processes with
// drifting clocks agree on what lies inside a window. An attempt is counted before its password is
// checked (a row per key, under a lock on those keys) and un-counted if it succeeds, so concurrent
// attempts cannot all slip under a limit.

const interval = (windowMs: number) => `${Math.max(1, Math.round(windowMs))} milliseconds`;

/** The longest window any limit uses: older rows are forgotten. */
const KEEP_MS = 60 * 60_000;

/** Serializes attempts on these keys until the transaction ends (in a fixed order: no deadlock). */
export async function lockLoginKeys(tx: EntityManager, keyHashes: string[]): Promise<void> {
  for (const key of [...keyHashes].sort()) await sql(tx, 'select pg_advisory_xact_lock(hashtextextended(?, 0))', [key]);
}

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

/** Counts an attempt against each key; returns the rows' ids, to take it back if it succeeds. */
export async function recordLoginFailures(em: EntityManager, keyHashes: string[]): Promise<string[]> {
  const rows = await sql<{ id: string }>(
    em,
    `insert into login_failures (key_hash) values ${keyHashes.map(() => '(?)').join(', ')} returning id`,
    keyHashes,
  );
  await sql(em, 'delete from login_failures where failed_at <= now() - ?::interval', [interval(KEEP_MS)]);
  return rows.map((r) => String(r.id));
}

export async function forgetLoginFailures(em: EntityManager, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql(em, `delete from login_failures where id in (${placeholders(ids.length)})`, ids);
}

export async function clearLoginFailures(em: EntityManager, keyHash: string): Promise<void> {
  await sql(em, 'delete from login_failures where key_hash = ?', [keyHash]);
}
