import { randomUUID } from 'node:crypto';
import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Organization, OrganizationMember, User, type IOrganization, type IOrganizationMember, type IUser } from './entities';
import { parseUuid } from '../domain/ids';
import { ORG_ADMIN_ROLE, ORG_MEMBER_ROLE, orgRoleOf, type Caller, type OrgRole } from './scope';
import { flushUnlessTaken, sql, sqlOne } from './sql';

// Organizations and memberships. An organization is visible to its members and to site owners;
// what only its admins may do is decided by the caller's role, which every lookup returns.

export const DEFAULT_ORG_NAME = 'coder';

/**
 * The organization named by `ref` (id, name, or "default" for the default organization) with the
 * caller's role in it, or null when it does not exist or the caller is not a member.
 */
export async function readableOrganization(
  em: EntityManager,
  caller: Caller,
  ref: string,
): Promise<{ org: IOrganization; role: OrgRole } | null> {
  const id = parseUuid(ref);
  let org = id
    ? await em.findOne(Organization, { id })
    : await em.findOne(Organization, { [raw((alias) => `lower(${alias}.name)`)]: ref.toLowerCase() });
  if (!org && !id && ref.toLowerCase() === 'default') org = await em.findOne(Organization, { isDefault: true });
  if (!org) return null;
  const role = await orgRoleOf(em, caller, org.id);
  return role ? { org, role } : null;
}

/** Ids of the organizations the caller belongs to ('all' for a site owner). */
export async function memberOrgIds(em: EntityManager, caller: Caller): Promise<string[] | 'all'> {
  if (caller.isSiteOwner) return 'all';
  return (await em.find(OrganizationMember, { user: caller.userId })).map((m) => m.organization);
}

export async function visibleOrganizations(em: EntityManager, caller: Caller): Promise<IOrganization[]> {
  const ids = await memberOrgIds(em, caller);
  return em.find(Organization, ids === 'all' ? {} : { id: { $in: ids } }, { orderBy: { name: 'asc' } });
}

/** The organizations of `userId` that the caller can see too. */
export async function sharedOrganizations(em: EntityManager, caller: Caller, userId: string): Promise<IOrganization[]> {
  const theirs = (await em.find(OrganizationMember, { user: userId })).map((m) => m.organization);
  const visible = caller.isSiteOwner
    ? theirs
    : (await em.find(OrganizationMember, { user: caller.userId, organization: { $in: theirs } })).map((m) => m.organization);
  return em.find(Organization, { id: { $in: visible } }, { orderBy: { name: 'asc' } });
}

/** The default organization, created on first use (insert-if-absent, safe under concurrency). */
export async function ensureDefaultOrganization(em: EntityManager): Promise<IOrganization> {
  const existing = await em.findOne(Organization, { isDefault: true });
  if (existing) return existing;
  const now = new Date();
  await sql(
    em,
    `insert into organizations (id, name, display_name, description, icon, is_default, created_at, updated_at)
     values (?, ?, ?, ?, '', true, ?, ?) on conflict do nothing`,
    [randomUUID(), DEFAULT_ORG_NAME, 'Coder', 'The default organization.', now, now],
  );
  const org = await em.findOne(Organization, { isDefault: true });
  if (!org) throw new Error('default organization could not be created');
  return org;
}

export async function organizationsByIds(em: EntityManager, ids: string[]): Promise<IOrganization[]> {
  return em.find(Organization, { id: { $in: ids } });
}

/** A new organization with its creator as admin; null when the name is taken. */
export async function createOrganization(
  em: EntityManager,
  creatorId: string,
  input: { name: string; displayName: string; description: string; icon: string },
): Promise<IOrganization | null> {
  const now = new Date();
  const org = em.create(Organization, { id: randomUUID(), ...input, isDefault: false, createdAt: now, updatedAt: now });
  em.create(OrganizationMember, { organization: org.id, user: creatorId, roles: [ORG_ADMIN_ROLE], createdAt: now, updatedAt: now });
  return (await flushUnlessTaken(em)) ? null : org;
}

/** Members of an organization with their users, oldest membership first. */
export async function membersWithUsers(em: EntityManager, orgId: string): Promise<{ member: IOrganizationMember; user: IUser }[]> {
  const members = await em.find(OrganizationMember, { organization: orgId }, { orderBy: { createdAt: 'asc' } });
  const users = await em.find(User, { id: { $in: members.map((m) => m.user) } });
  const byId = new Map(users.map((u) => [u.id, u]));
  return members.filter((m) => byId.has(m.user)).map((m) => ({ member: m, user: byId.get(m.user)! }));
}

export function findMember(em: EntityManager, orgId: string, userId: string): Promise<IOrganizationMember | null> {
  return em.findOne(OrganizationMember, { organization: orgId, user: userId });
}

export async function isMember(em: EntityManager, orgId: string, userId: string): Promise<boolean> {
  return (await sqlOne(em, 'select 1 from organization_members where organization_id = ? and user_id = ?', [orgId, userId])) !== null;
}

/** Adds a plain member; null when the user already is one (also when a concurrent add wins). */
export async function addMember(em: EntityManager, orgId: string, userId: string): Promise<IOrganizationMember | null> {
  if (await findMember(em, orgId, userId)) return null;
  const now = new Date();
  const member = em.create(OrganizationMember, { organization: orgId, user: userId, roles: [], createdAt: now, updatedAt: now });
  return (await flushUnlessTaken(em)) ? null : member;
}

/** Replaces a member's roles; organization-member is implicit in membership, only the extra roles are stored. */
export async function setMemberRoles(em: EntityManager, member: IOrganizationMember, roles: string[]): Promise<void> {
  member.roles = [...new Set(roles.filter((r) => r !== ORG_MEMBER_ROLE))];
  member.updatedAt = new Date();
  await em.flush();
}
