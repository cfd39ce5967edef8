import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { deleteApiKeyRow, insertApiKey, keyWithUser, touchApiKey, userColumnsOf } from '../../db/api-keys';
import type { SessionCache } from './session-cache';

// Coder-style session tokens "<id>-<secret>": the id is the row's primary key (so lookup is one
// indexed read), the secret is only ever stored as SHA-256. A database dump therefore holds no
// usable credential, and the comparison of hashes is constant-time.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 10;
const SECRET_LENGTH = 22; // 22 base62 chars ≈ 131 bits
const TOKEN_RE = /^([A-Za-z0-9]{10})-([A-Za-z0-9]{22,128})$/;

export const SESSION_LIFETIME_S = 7 * 24 * 3600;
export const API_TOKEN_LIFETIME_S = 30 * 24 * 3600;
export const MAX_TOKEN_LIFETIME_S = 365 * 24 * 3600;
/** last_used is a "seen recently" signal; writing it on every request would turn reads into writes */
const TOUCH_INTERVAL_MS = 60_000;

function randomString(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function parseToken(token: string): { id: string; secret: string } | null {
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1], secret: m[2] } : null;
}

export interface CreatedApiKey {
  /** the full token; shown to the caller once, never stored */
  token: string;
  id: string;
  expiresAt: Date;
}

export async function createApiKey(
  em: EntityManager,
  opts: { userId: string; lifetimeSeconds: number; loginType?: 'password' | 'token'; tokenName?: string; now?: Date },
): Promise<CreatedApiKey> {
  const now = opts.now ?? new Date();
  const id = randomString(ID_LENGTH);
  const secret = randomString(SECRET_LENGTH);
  const expiresAt = new Date(now.getTime() + opts.lifetimeSeconds * 1000);
  await insertApiKey(em, {
    id,
    userId: opts.userId,
    hashedSecret: hashSecret(secret),
    loginType: opts.loginType ?? 'password',
    tokenName: opts.tokenName ?? '',
    expiresAt,
    createdAt: now,
  });
  return { token: `${id}-${secret}`, id, expiresAt };
}

/** The user a key belongs to, as stored when it was verified. */
export interface VerifiedUser {
  id: string;
  username: string;
  isSiteOwner: boolean;
  /** the users row (database column names and values): em.map() it when an entity is needed */
  row: Readonly<Record<string, unknown>>;
}

export type VerifiedKey =
  | { ok: true; key: { id: string; expiresAt: Date; lastUsed: Date }; user: VerifiedUser }
  | { ok: false; reason: 'malformed' | 'unknown' | 'expired' | 'suspended' };

export interface VerifyOptions {
  /** recently used keys of this process (api/auth/session-cache.ts); without it every call reads the database */
  cache?: SessionCache;
  now?: Date;
}

/** Resolves a presented token to its key and user; never throws for bad tokens. */
export async function verifyApiKey(em: EntityManager, token: string, opts: VerifyOptions = {}): Promise<VerifiedKey> {
  const now = opts.now ?? new Date();
  const { cache } = opts;
  const parsed = parseToken(token);
  if (!parsed) return { ok: false, reason: 'malformed' };
  // Every authenticated request runs this, so the key and its user come in one round trip (two
  // ORM lookups were about half the CPU of a GET /tasks/me/{id}: bench/RESULTS.md), or from the
  // session cache with none.
  let row = cache?.get(parsed.id);
  if (!row) {
    const generation = cache?.generation ?? 0;
    row = (await keyWithUser(em, parsed.id)) ?? undefined;
    if (!row) return { ok: false, reason: 'unknown' };
    cache?.set(parsed.id, String(row['u__id']), row, generation);
  }
  // Plain values, not entities: mapping two entities into the request's identity map was a tenth of
  // a task read's CPU, and most requests never touch either (authz.ts maps the user when asked).
  const key = { id: parsed.id, expiresAt: new Date(row['k__expires_at'] as string), lastUsed: new Date(row['k__last_used'] as string) };
  const presented = Buffer.from(hashSecret(parsed.secret), 'hex');
  const stored = Buffer.from(String(row['k__hashed_secret']), 'hex');
  if (presented.length !== stored.length || !timingSafeEqual(presented, stored)) return { ok: false, reason: 'unknown' };
  if (key.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
  if (row['u__status'] === 'suspended') return { ok: false, reason: 'suspended' };
  const user: VerifiedUser = {
    id: String(row['u__id']),
    username: String(row['u__username']),
    isSiteOwner: row['u__is_site_owner'] === true,
    row: userColumnsOf(em, row),
  };
  if (now.getTime() - key.lastUsed.getTime() >= TOUCH_INTERVAL_MS) {
    // conditional update: concurrent requests of the same key write at most once per interval
    await touchApiKey(em, key.id, now, TOUCH_INTERVAL_MS);
    cache?.patch(key.id, 'k__last_used', now.toISOString());
  }
  return { ok: true, key, user };
}

/** Deletes a key; this process stops accepting it at once, the others when the trigger's notification reaches them. */
export async function deleteApiKey(em: EntityManager, id: string, cache?: SessionCache): Promise<void> {
  await deleteApiKeyRow(em, id);
  cache?.forgetKey(id);
}
