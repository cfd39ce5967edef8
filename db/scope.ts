import type { EntityManager } from '@mikro-orm/postgresql';
import { sql, sqlOne } from './sql';

/*
 * Who is asking, as every query of owner-scoped rows (tasks, workspaces, builds) takes it: the query
 * shows only what this caller may see, so no handler can forget a check — what it may not see is
 * simply not there, and becomes 404 (never 403), as Coder's dbauthz does.
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

export interface Caller {
  userId: string;
  isSiteOwner: boolean;
}

/** A caller with the organizations they administer, resolved once for a query over many rows. */
export interface ListScope extends Caller {
  adminOrgIds: string[];
}

export type OrgRole = 'admin' | 'member';
export const ORG_ADMIN_ROLE = 'organization-admin';
export const ORG_MEMBER_ROLE = 'organization-member';

/** Organizations where the user holds organization-admin. */
export async function adminOrgIds(em: EntityManager, userId: string): Promise<string[]> {
  const rows = await sql<{ organization_id: string }>(
    em,
    'select organization_id from organization_members where user_id = ? and ? = any(roles)',
    [userId, ORG_ADMIN_ROLE],
  );
  return rows.map((r) => r.organization_id);
}

export async function listScope(em: EntityManager, caller: Caller): Promise<ListScope> {
  return { userId: caller.userId, isSiteOwner: caller.isSiteOwner, adminOrgIds: caller.isSiteOwner ? [] : await adminOrgIds(em, caller.userId) };
}

/** The caller's effective role in an organization: site owners administer every organization. */
export async function orgRoleOf(em: EntityManager, caller: Caller, orgId: string): Promise<OrgRole | null> {
  if (caller.isSiteOwner) return 'admin';
  const row = await sqlOne<{ roles: string[] }>(em, 'select roles from organization_members where organization_id = ? and user_id = ?', [
    orgId,
    caller.userId,
  ]);
  if (!row) return null;
  return row.roles.includes(ORG_ADMIN_ROLE) ? 'admin' : 'member';
}

/**
 * "The caller may see rows of this owner in this organization" as a SQL boolean with `?`
 * placeholders: the owner, a site owner, or an admin of the row's organization. A ListScope
 * carries the administered organizations; a plain Caller asks the membership table in the
 * statement itself, which costs a single read no extra round trip. Column names are trusted
 * identifiers from the caller, never user input.
 */
export function ownerScopeSql(scope: Caller | ListScope, columns: { owner: string; organization: string }): { sql: string; params: string[] } {
  if (scope.isSiteOwner) return { sql: 'true', params: [] };
  if ('adminOrgIds' in scope) {
    if (scope.adminOrgIds.length === 0) return { sql: `(${columns.owner} = ?)`, params: [scope.userId] };
    return {
      sql: `(${columns.owner} = ? or ${columns.organization} in (${scope.adminOrgIds.map(() => '?').join(', ')}))`,
      params: [scope.userId, ...scope.adminOrgIds],
    };
  }
  return {
    sql: `(${columns.owner} = ? or exists (select 1 from organization_members scope_m
            where scope_m.organization_id = ${columns.organization} and scope_m.user_id = ? and ? = any(scope_m.roles)))`,
    params: [scope.userId, scope.userId, ORG_ADMIN_ROLE],
  };
}
