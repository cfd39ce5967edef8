import type { EntityManager } from '@mikro-orm/postgresql';
import { raw } from '@mikro-orm/core';
import type { Actor } from '../api/context';
import {
  Organization,
  OrganizationMember,
  Template,
  TemplateVersion,
  User,
  type IOrganization,
  type ITemplate,
  type ITemplateVersion,
  type IUser,
} from './entities';
import { parseUuid } from '../domain/ids';

/*
 * Authorization lives here, in the data-access layer: handlers obtain rows only through these
 * helpers, and a helper returns null for anything the caller may not see, so a handler cannot
 * forget a check — it simply has nothing to show. null becomes 404 (never 403), so existence of
 * other people's things does not leak.
 *
 * Roles
 *   site owner          users.is_site_owner (the first user; more can be made by an owner)
 *   organization admin  "organization-admin" in organization_members.roles of that organization
 *   organization member a row in organization_members (implicit role "organization-member")
 *
 * Matrix (O = an organization, R = a task/workspace owned by user U in O)
 *
 *   action                                    site owner   admin of O   member of O   other user
 *   see O, list its members/templates            yes          yes          yes           404
 *   create templates/versions in O, add          yes          yes          403           404
 *     members, change member roles
 *   use a template version of O (create task)    yes          yes          yes           404*
 *   see/act on R (task, workspace, build)        yes          yes          only if U     404
 *   read user U (GET /users/U, owner:U)          yes          if shares an org with U     404
 *   create users                                 yes          403          403           403
 *   create API keys for U                        yes          only self    only self     404
 *
 *   * the task-create route answers 400 here, as Coder does (spec §3.3 step 3).
 */

export type OrgRole = 'admin' | 'member';
export const ORG_ADMIN_ROLE = 'organization-admin';
export const ORG_MEMBER_ROLE = 'organization-member';

/** Looks a user up by "me", id or username WITHOUT authorization — only for callers that check next. */
export async function findUserUnchecked(em: EntityManager, actor: Actor | null, ref: string): Promise<IUser | null> {
  if (ref === 'me') {
    if (!actor) return null;
    // a copy: em.map may convert the values it is given, and the row is shared with the session cache
    return actor.storedUser ? (em.map(User, { ...actor.storedUser } as never) as IUser) : em.findOne(User, { id: actor.userId });
  }
  const id = parseUuid(ref);
  if (id) return em.findOne(User, { id });
  return em.findOne(User, { [raw((alias) => `lower(${alias}.username)`)]: ref.toLowerCase() });
}

async function sharesOrganization(em: EntityManager, a: string, b: string): Promise<boolean> {
  const rows = await em.execute(
      `select 1 from organization_members x join organization_members y on x.organization_id = y.organization_id
       where x.user_id = ? and y.user_id = ? limit 1`,
      [a, b],
    );
  return rows.length > 0;
}

/** The user `ref` ('me' | uuid | username) if the actor may see them: self, site owner, or a shared org. */
export async function readableUser(em: EntityManager, actor: Actor, ref: string): Promise<IUser | null> {
  const user = await findUserUnchecked(em, actor, ref);
  if (!user) return null;
  if (user.id === actor.userId || actor.isSiteOwner) return user;
  return (await sharesOrganization(em, actor.userId, user.id)) ? user : null;
}

/** The actor's effective role in an organization: site owners administer every organization. */
export async function orgRoleOf(em: EntityManager, actor: Actor, orgId: string): Promise<OrgRole | null> {
  if (actor.isSiteOwner) return 'admin';
  const membership = await em.findOne(OrganizationMember, { organization: orgId, user: actor.userId });
  if (!membership) return null;
  return membership.roles.includes(ORG_ADMIN_ROLE) ? 'admin' : 'member';
}

/**
 * The organization named by `ref` (id, name, or "default" for the default organization) with the
 * actor's role in it, or null when it does not exist or the actor is not a member.
 */
export async function readableOrganization(
  em: EntityManager,
  actor: Actor,
  ref: string,
): Promise<{ org: IOrganization; role: OrgRole } | null> {
  const id = parseUuid(ref);
  let org = id
    ? await em.findOne(Organization, { id })
    : await em.findOne(Organization, { [raw((alias) => `lower(${alias}.name)`)]: ref.toLowerCase() });
  if (!org && !id && ref.toLowerCase() === 'default') org = await em.findOne(Organization, { isDefault: true });
  if (!org) return null;
  const role = await orgRoleOf(em, actor, org.id);
  return role ? { org, role } : null;
}

/** Organizations where the user holds organization-admin. */
export async function adminOrgIds(em: EntityManager, userId: string): Promise<string[]> {
  const rows: { organization_id: string }[] = await em.execute(
    'select organization_id from organization_members where user_id = ? and ? = any(roles)',
    [userId, ORG_ADMIN_ROLE],
  );
  return rows.map((r) => r.organization_id);
}

/** Whether the actor may see and act on things `ownerId` owns in `orgId`: self, site owner, org admin. */
export async function canReadOwnerResources(
  em: EntityManager,
  actor: Actor,
  ownerId: string,
  orgId: string,
): Promise<boolean> {
  if (ownerId === actor.userId || actor.isSiteOwner) return true;
  return (await orgRoleOf(em, actor, orgId)) === 'admin';
}

/**
 * Which owner-scoped rows (tasks, workspaces) the actor may see, as a filter the read model applies
 * in SQL: site owners see everything; everyone else their own rows plus rows in organizations they
 * administer.
 */
export type TaskScope = { all: true } | { all: false; userId: string; adminOrgIds: string[] };

export async function visibleTaskScope(em: EntityManager, actor: Actor): Promise<TaskScope> {
  if (actor.isSiteOwner) return { all: true };
  return { all: false, userId: actor.userId, adminOrgIds: await adminOrgIds(em, actor.userId) };
}

/**
 * The scope as a SQL boolean with `?` placeholders (knex/MikroORM `execute` style).
 * Column names are trusted identifiers from the caller, never user input.
 */
export function taskScopeSql(
  scope: TaskScope,
  columns: { owner: string; organization: string } = { owner: 'owner_id', organization: 'organization_id' },
): { sql: string; params: string[] } {
  if (scope.all) return { sql: 'true', params: [] };
  if (scope.adminOrgIds.length === 0) return { sql: `(${columns.owner} = ?)`, params: [scope.userId] };
  const placeholders = scope.adminOrgIds.map(() => '?').join(', ');
  return {
    sql: `(${columns.owner} = ? or ${columns.organization} in (${placeholders}))`,
    params: [scope.userId, ...scope.adminOrgIds],
  };
}

/** The scope as a MikroORM filter for entities with `owner` and `organization` relations. */
export function taskScopeFilter(scope: TaskScope): Record<string, unknown> {
  if (scope.all) return {};
  return { $or: [{ owner: scope.userId }, { organization: { $in: scope.adminOrgIds } }] };
}

/** A non-deleted template the actor can see (member of its organization or site owner), with their role. */
export async function readableTemplate(
  em: EntityManager,
  actor: Actor,
  templateId: string,
): Promise<{ template: ITemplate; role: OrgRole } | null> {
  const id = parseUuid(templateId);
  if (!id) return null;
  const template = await em.findOne(Template, { id, deleted: false });
  if (!template) return null;
  const role = await orgRoleOf(em, actor, template.organization);
  return role ? { template, role } : null;
}

/** A template version the actor can see, with their role in its organization. */
export async function readableTemplateVersion(
  em: EntityManager,
  actor: Actor,
  versionId: string,
): Promise<{ version: ITemplateVersion; role: OrgRole } | null> {
  const id = parseUuid(versionId);
  if (!id) return null;
  const version = await em.findOne(TemplateVersion, { id });
  if (!version) return null;
  const role = await orgRoleOf(em, actor, version.organization);
  if (!role) return null;
  const template = await em.findOne(Template, { id: version.template, deleted: false });
  return template ? { version, role } : null;
}

/** The version if the actor may build workspaces/tasks from it (any member of its organization). */
export async function canUseTemplateVersion(
  em: EntityManager,
  actor: Actor,
  versionId: string,
): Promise<ITemplateVersion | null> {
  return (await readableTemplateVersion(em, actor, versionId))?.version ?? null;
}
