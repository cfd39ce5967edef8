import type { EntityManager } from '@mikro-orm/postgresql';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from './deps';

// Activities talk SQL: each writes a handful of rows whose idempotency rests on business keys
// and unique constraints, which reads more plainly as statements than as unit-of-work flushes.

/** Runs `sql` (with `?` placeholders) in the EntityManager's transaction, if it has one. */
export async function sql<T = Record<string, unknown>>(em: EntityManager, text: string, params: unknown[] = []): Promise<T[]> {
  return (await em.execute(text, params as never[], 'all')) as T[];
}

export async function sqlOne<T = Record<string, unknown>>(em: EntityManager, text: string, params: unknown[] = []): Promise<T | null> {
  return (await sql<T>(em, text, params))[0] ?? null;
}

/** A forked EntityManager per activity call: activities never share an identity map. */
export function forkEm(deps: ActivityDeps): EntityManager {
  return deps.orm.em.fork() as EntityManager;
}

/** Runs `fn` in one transaction on a fresh fork. */
export function inTransaction<T>(deps: ActivityDeps, fn: (tx: EntityManager) => Promise<T>): Promise<T> {
  return forkEm(deps).transactional((tx) => fn(tx as EntityManager));
}

/** Name of the unique constraint a PostgreSQL error violated, if that is what it is. */
export function violatedConstraint(err: unknown): string | null {
  const e = err as { code?: string; constraint?: string } | null;
  return e && e.code === '23505' ? (e.constraint ?? '') : null;
}

/** A business failure: retrying cannot change the answer, so Temporal must not retry. */
export function businessFailure(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}
