import { randomUUID } from 'node:crypto';
import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { OrganizationMember, User, type IOrganizationMember, type IUser } from './entities';
import { parseUuid } from '../domain/ids';
import type { Caller } from './scope';
import { flushUnlessTaken, placeholders, sql } from './sql';

// Users: lookups by "me", id or username, and the insert with its uniqueness checks. A user is
// readable by themselves, by a site owner, and by anyone who shares an organization with them.

/** The caller as the API knows them: "me" resolves from the row read when the token was verified. */
export interface Me extends Caller {
  storedUser?: Readonly<Record<string, unknown>>;
}

/** Looks a user up by "me", id or username WITHOUT authorization — only for callers that check next. */
export async function findUser(em: EntityManager, me: Me | null, ref: string): Promise<IUser | null> {
  if (ref === 'me') {
    if (!me) return null;
    // a copy: em.map may convert the values it is given, and the row is shared with the session cache
    return me.storedUser ? (em.map(User, { ...me.storedUser } as never) as IUser) : em.findOne(User, { id: me.userId });
  }
  const id = parseUuid(ref);
  if (id) return em.findOne(User, { id });
  return em.findOne(User, { [raw((alias) => `lower(${alias}.username)`)]: ref.toLowerCase() });
}

async function sharesOrganization(em: EntityManager, a: string, b: string): Promise<boolean> {
  const rows = await sql(
    em,
    `select 1 from organization_members x join organization_members y on x.organization_id = y.organization_id
      where x.user_id = ? and y.user_id = ? limit 1`,
    [a, b],
  );
  return rows.length > 0;
}

/** The user `ref` ('me' | uuid | username) if the caller may see them: self, site owner, or a shared org. */
export async function readableUser(em: EntityManager, me: Me, ref: string): Promise<IUser | null> {
  const user = await findUser(em, me, ref);
  if (!user) return null;
  if (user.id === me.userId || me.isSiteOwner) return user;
  return (await sharesOrganization(em, me.userId, user.id)) ? user : null;
}

/** Users the caller may see, by username: everyone for a site owner, else those sharing an organization. */
export async function visibleUsers(em: EntityManager, caller: Caller): Promise<IUser[]> {
  if (caller.isSiteOwner) return em.find(User, {}, { orderBy: { username: 'asc' } });
  const rows = await sql<{ user_id: string }>(
    em,
    `select distinct y.user_id from organization_members x
       join organization_members y on x.organization_id = y.organization_id where x.user_id = ?`,
    [caller.userId],
  );
  const ids = [...new Set([caller.userId, ...rows.map((r) => r.user_id)])];
  return em.find(User, { id: { $in: ids } }, { orderBy: { username: 'asc' } });
}

export function userByEmail(em: EntityManager, email: string): Promise<IUser | null> {
  return em.findOne(User, { [raw((a) => `lower(${a}.email)`)]: email.toLowerCase() });
}

export function countUsers(em: EntityManager): Promise<number> {
  return em.count(User, {});
}

/** What a Coder User shows beyond its row: memberships and when the user last used a key. */
export interface UserDetails {
  memberships: IOrganizationMember[];
  lastSeen: Map<string, Date>;
}

export async function userDetails(em: EntityManager, userIds: string[]): Promise<UserDetails> {
  if (userIds.length === 0) return { memberships: [], lastSeen: new Map() };
  const memberships = await em.find(OrganizationMember, { user: { $in: userIds } }, { orderBy: { createdAt: 'asc' } });
  const seen = await sql<{ user_id: string; last: Date }>(
    em,
    `select user_id, max(last_used) as last from api_keys where user_id in (${placeholders(userIds.length)}) group by user_id`,
    userIds,
  );
  return { memberships, lastSeen: new Map(seen.map((r) => [r.user_id, new Date(r.last)])) };
}

export interface NewUser {
  email: string;
  username: string;
  name?: string;
  passwordHash: string;
  isSiteOwner?: boolean;
}

/** The fields of `u` another user already holds (case-insensitively). */
async function clashesOf(em: EntityManager, u: NewUser): Promise<('email' | 'username')[]> {
  const clashes: ('email' | 'username')[] = [];
  if (await userByEmail(em, u.email)) clashes.push('email');
  if (await em.findOne(User, { [raw((a) => `lower(${a}.username)`)]: u.username.toLowerCase() })) clashes.push('username');
  return clashes;
}

/**
 * Inserts a user and their memberships in the caller's transaction, or names the fields that are
 * taken (also when a concurrent insert wins the race).
 */
export async function insertUser(
  em: EntityManager,
  input: NewUser,
  memberships: { organizationId: string; roles: string[] }[],
): Promise<{ user: IUser } | { taken: ('email' | 'username')[] }> {
  const clashes = await clashesOf(em, input);
  if (clashes.length > 0) return { taken: clashes };
  const now = new Date();
  const user = em.create(User, {
    id: randomUUID(),
    email: input.email,
    username: input.username,
    name: input.name ?? '',
    avatarUrl: '',
    passwordHash: input.passwordHash,
    isSiteOwner: input.isSiteOwner ?? false,
    status: 'active',
    createdAt: now,
    updatedAt: now,
  });
  for (const m of memberships) {
    em.create(OrganizationMember, { organization: m.organizationId, user: user.id, roles: m.roles, createdAt: now, updatedAt: now });
  }
  const taken = await flushUnlessTaken(em);
  if (taken) return { taken: [/users_email/.test(taken.message) ? 'email' : 'username'] };
  return { user };
}

const FIRST_USER_LOCK = 7_361_001;

/** Serialises concurrent first-user requests in the caller's transaction: exactly one can see "no users yet". */
export async function lockFirstUser(tx: EntityManager): Promise<void> {
  await sql(tx, 'select pg_advisory_xact_lock(?)', [FIRST_USER_LOCK]);
}

/** Replaces a user's password hash (a stronger hash of the same password, at login). */
export async function setPasswordHash(em: EntityManager, userId: string, passwordHash: string): Promise<void> {
  await sql(em, 'update users set password_hash = ?, updated_at = now() where id = ?', [passwordHash, userId]);
}
