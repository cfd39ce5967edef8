import type { EntityManager } from '@mikro-orm/postgresql';

// Read models are plain parameterised SQL over the request's forked EntityManager: the joins that
// build a Coder object are easier to read (and to keep to one round trip) as SQL than as ORM calls.

/** Runs `sql` with `?` placeholders bound server-side; joins the EntityManager's transaction if any. */
export async function queryRows<T>(em: EntityManager, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  const query = em.getKnex().raw(sql, bindings as never[]);
  const trx = em.getTransactionContext();
  if (trx) query.transacting(trx);
  const result = (await query) as { rows: T[] };
  return result.rows;
}

export async function queryOne<T>(em: EntityManager, sql: string, bindings: readonly unknown[] = []): Promise<T | null> {
  const rows = await queryRows<T>(em, sql, bindings);
  return rows[0] ?? null;
}

/**
 * A timestamptz column as RFC 3339 text in UTC with microseconds. JavaScript Dates stop at
 * milliseconds, and §2.2 compares an app status with its build at full precision.
 */
export function rfc3339(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** Drops trailing zeros of the fraction, as Go's RFC3339Nano formatting does. */
export function goTime(value: string): string;
export function goTime(value: string | null): string | null;
export function goTime(value: string | null): string | null {
  if (value === null) return null;
  return value.replace(/\.?0+Z$/, 'Z');
}
