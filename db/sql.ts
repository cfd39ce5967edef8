import { createHash } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from './orm';

// The one way taskd runs SQL. Data access is plain parameterised statements over a forked
// EntityManager: the joins that build a Coder object, and the guarded writes whose idempotency
// rests on business keys and unique constraints, read more plainly as SQL than as ORM calls.
// Parameters are bound by the server (never spliced into the text), and a statement joins the
// EntityManager's transaction when it has one.

// Statements are prepared on the server under a name derived from their text: PostgreSQL parses a
// statement once per connection and, after its first few calls, reuses one plan where that plan is as
// good as planning again. Planning every call was a third of PostgreSQL's CPU a task lifecycle
// (bench/RESULTS.md). A statement with many parameters is left unnamed: its text varies with a list's
// length (`in (?, ?, …)`, a batch of rows), and naming each variant would keep an unbounded number of
// statements alive on every pooled connection.
const PREPARE_MAX_PARAMS = 32;
const STATEMENT_NAMES_KEPT = 2000;
const statementNames = new Map<string, string>();
const unnamedPools = new WeakSet<object>();

/** The server-side name of a statement's text: a digest, so a name can never mean two texts. */
export function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `taskd_${createHash('sha256').update(text).digest('base64url').slice(0, 32)}`;
    if (statementNames.size < STATEMENT_NAMES_KEPT) statementNames.set(text, name);
  }
  return name;
}

/**
 * Turns named statements off for this ORM's pool (DATABASE_PREPARED_STATEMENTS=0), for a connection
 * pooler that hands one client's statements to another server connection.
 */
export function withoutPreparedStatements(orm: Orm): void {
  unnamedPools.add(orm.em.getKnex());
}

/**
 * Texts whose prepared statement a schema change outdated while this process ran (a migration by a
 * newer release changed a column it returns): sent unnamed from then on.
 */
const outdatedPlans = new Set<string>();

/** Runs `text` (with `?` placeholders) and returns its rows. */
export async function sql<T = Record<string, unknown>>(em: EntityManager, text: string, params: readonly unknown[] = []): Promise<T[]> {
  const knex = em.getKnex();
  const named = params.length <= PREPARE_MAX_PARAMS && !unnamedPools.has(knex) && !outdatedPlans.has(text);
  const query = knex.raw(text, params as never[]);
  if (named) query.options({ name: statementName(text) });
  const trx = em.getTransactionContext();
  if (trx) query.transacting(trx);
  try {
    const result = (await query) as { rows: T[] };
    return result.rows;
  } catch (err) {
    if (named && isOutdatedPlan(err)) {
      outdatedPlans.add(text);
      // alone, nothing was done: run it again unnamed. In a transaction, the transaction is aborted
      // and its caller's retry (an activity's, a client's) runs the statement unnamed.
      if (!trx) return sql<T>(em, text, params);
    }
    throw withoutValues(err);
  }
}

/** PostgreSQL refusing a prepared statement whose result columns changed type (SQLSTATE 0A000). */
function isOutdatedPlan(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === '0A000' && typeof e.message === 'string' && e.message.includes('cached plan must not change result type');
}

/**
 * A failed statement's error as it may be logged: the statement with its placeholders (db/orm.ts
 * has knex leave values out) and PostgreSQL's reason, minus the values PostgreSQL quotes back — the
 * input a data exception (class 22) could not read, the key a constraint violation (class 23) found.
 */
export function withoutValues(err: unknown): unknown {
  const e = err as { code?: unknown; message?: unknown; detail?: unknown } | null;
  if (!e || typeof e.code !== 'string') return err;
  if (e.code.startsWith('22') && typeof e.message === 'string') e.message = e.message.replace(/: "(?:[^"\\]|\\.)*"$/, ': "…"');
  if (e.code.startsWith('22') || e.code.startsWith('23')) delete e.detail;
  return err;
}

/** `value` as literal text inside a LIKE/ILIKE pattern: its `%`, `_` and `\` match themselves. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, '\\$&');
}

export async function sqlOne<T = Record<string, unknown>>(em: EntityManager, text: string, params: readonly unknown[] = []): Promise<T | null> {
  return (await sql<T>(em, text, params))[0] ?? null;
}

/** `?, ?, …` for a list of `n` values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** A fresh EntityManager: one per request and per activity call, never a shared identity map. */
export function fork(orm: Orm): EntityManager {
  return orm.em.fork() as EntityManager;
}

/** Runs `fn` in one transaction on a fresh fork. */
export function inTransaction<T>(orm: Orm, fn: (tx: EntityManager) => Promise<T>): Promise<T> {
  return fork(orm).transactional((tx) => fn(tx as EntityManager));
}

/**
 * Flushes the unit of work; returns the violation when a unique constraint refused it (the name is
 * taken, or a concurrent insert won), so the caller can say which field clashed.
 */
export async function flushUnlessTaken(em: EntityManager): Promise<UniqueConstraintViolationException | null> {
  try {
    await em.flush();
    return null;
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) return err;
    throw err;
  }
}

/** Name of the unique constraint a PostgreSQL error violated, if that is what it is. */
export function violatedConstraint(err: unknown): string | null {
  const e = err as { code?: string; constraint?: string } | null;
  return e && e.code === '23505' ? (e.constraint ?? '') : null;
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
