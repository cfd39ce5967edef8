import { ReferenceKind } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiKey, User } from './entities';
import { sql } from './sql';

// Stored session and API keys: the row (with only a hash of the secret) and its user, read together
// in one statement because every authenticated request needs both.

export interface NewApiKey {
  id: string;
  userId: string;
  hashedSecret: string;
  loginType: 'password' | 'token';
  tokenName: string;
  expiresAt: Date;
  createdAt: Date;
}

export async function insertApiKey(em: EntityManager, key: NewApiKey): Promise<void> {
  em.create(ApiKey, {
    id: key.id,
    user: key.userId,
    hashedSecret: key.hashedSecret,
    loginType: key.loginType,
    tokenName: key.tokenName,
    expiresAt: key.expiresAt,
    lastUsed: key.createdAt,
    createdAt: key.createdAt,
  });
  await em.flush();
}

interface KeyUserQuery {
  sql: string;
  userColumns: string[];
}

const keyUserQueries = new WeakMap<object, KeyUserQuery>();

/** The one statement that reads a key with its user, built once per ORM from the entities' metadata. */
function keyUserQuery(em: EntityManager): KeyUserQuery {
  const metadata = em.getMetadata();
  let query = keyUserQueries.get(metadata);
  if (!query) {
    const columns = (entity: string) =>
      metadata
        .get(entity)
        .props.filter(
          (p) =>
            p.persist !== false && !p.formula &&
            (p.kind === ReferenceKind.SCALAR || p.kind === ReferenceKind.MANY_TO_ONE || (p.kind === ReferenceKind.ONE_TO_ONE && p.owner)),
        )
        .flatMap((p) => p.fieldNames);
    const keyColumns = columns(ApiKey.meta.className);
    const userColumns = columns(User.meta.className);
    const select = [...keyColumns.map((c) => `k."${c}" as "k__${c}"`), ...userColumns.map((c) => `u."${c}" as "u__${c}"`)];
    query = { sql: `select ${select.join(', ')} from api_keys k join users u on u.id = k.user_id where k.id = ?`, userColumns };
    keyUserQueries.set(metadata, query);
  }
  return query;
}

/** The stored key and its user as one row: key columns prefixed `k__`, user columns `u__`. */
export async function keyWithUser(em: EntityManager, keyId: string): Promise<Record<string, unknown> | null> {
  return (await sql<Record<string, unknown>>(em, keyUserQuery(em).sql, [keyId]))[0] ?? null;
}

/** The users row inside a keyWithUser row (database column names and values). */
export function userColumnsOf(em: EntityManager, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of keyUserQuery(em).userColumns) out[c] = row[`u__${c}`];
  return out;
}

/** Sets last_used unless another request of the same key did so within `intervalMs`. */
export async function touchApiKey(em: EntityManager, keyId: string, now: Date, intervalMs: number): Promise<void> {
  await em.nativeUpdate(ApiKey, { id: keyId, lastUsed: { $lt: new Date(now.getTime() - intervalMs) } }, { lastUsed: now });
}

export async function deleteApiKeyRow(em: EntityManager, keyId: string): Promise<void> {
  await em.nativeDelete(ApiKey, { id: keyId });
}

export async function tokenNameTaken(em: EntityManager, userId: string, tokenName: string): Promise<boolean> {
  return (await em.count(ApiKey, { user: userId, tokenName })) > 0;
}
