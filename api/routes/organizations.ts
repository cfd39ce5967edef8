import { createRoute, z } from '@hono/zod-openapi';
import type { Actor, ApiApp, AppDeps } from '../context';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiError, notFound } from '../errors';
import { requireUser } from '../middleware/auth';
import { ORG_ADMIN_ROLE, ORG_MEMBER_ROLE } from '../../db/scope';
import { findUser } from '../../db/users';
import {
  addMember,
  createOrganization,
  findMember,
  membersWithUsers,
  readableOrganization,
  setMemberRoles,
  visibleOrganizations,
} from '../../db/organizations';
import { auditedTransaction } from '../audit';
import { usernameSchema } from '../accounts';
import {
  OrganizationMemberSchema,
  OrganizationMemberWithUserDataSchema,
  OrganizationSchema,
  toMember,
  toMemberWithUser,
  toOrganization,
} from '../dto/accounts';
import { SESSION_SECURITY, errorResponses, jsonBody, jsonContent } from '../dto/common';

// Organizations and memberships. Visibility: members and site owners; administration: organization
// admins and site owners (403 for plain members, who can see the organization anyway).

const orgParam = z.object({
  organization: z.string().min(1).openapi({ param: { name: 'organization', in: 'path' }, description: 'id, name or "default"' }),
});
const memberParams = orgParam.extend({
  user: z.string().min(1).openapi({ param: { name: 'user', in: 'path' }, description: 'user id or username' }),
});
const auth = { security: SESSION_SECURITY, middleware: requireUser };

const createOrgBody = z
  .object({
    name: usernameSchema,
    display_name: z.string().trim().max(64).optional(),
    description: z.string().max(128).optional(),
    icon: z.string().max(255).optional(),
  })
  .openapi('CreateOrganizationRequest');

const rolesBody = z
  .object({ roles: z.array(z.enum([ORG_ADMIN_ROLE, ORG_MEMBER_ROLE])) })
  .openapi('UpdateRoles');

/** The organization if visible, and the guarantee that the actor administers it (403 otherwise). */
async function administeredOrganization(em: EntityManager, actor: Actor, ref: string) {
  const found = await readableOrganization(em, actor, ref);
  if (!found) throw notFound();
  if (found.role !== 'admin') throw new ApiError(403, 'Forbidden.', 'Only organization admins can manage members.');
  return found.org;
}

export function registerOrganizationRoutes(api: ApiApp, _deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'get',
      path: '/organizations',
      tags: ['Organizations'],
      summary: 'Organizations visible to the caller',
      ...auth,
      responses: { 200: jsonContent(z.array(OrganizationSchema), 'OK'), ...errorResponses(401) },
    }),
    async (c) => {
      return c.json((await visibleOrganizations(c.get('em'), c.get('actor'))).map(toOrganization), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/organizations',
      tags: ['Organizations'],
      summary: 'Create an organization (site owner only); the creator becomes its admin',
      ...auth,
      request: { body: jsonBody(createOrgBody) },
      responses: { 201: jsonContent(OrganizationSchema, 'Created'), ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => {
      const actor = c.get('actor');
      if (!actor.isSiteOwner) throw new ApiError(403, 'Forbidden.', 'Only site owners can create organizations.');
      const body = c.req.valid('json');
      const org = await auditedTransaction(c, async (tx) => {
        const created = await createOrganization(tx, actor.userId, {
          name: body.name,
          displayName: body.display_name || body.name,
          description: body.description ?? '',
          icon: body.icon ?? '',
        });
        if (!created) {
          throw new ApiError(409, 'Organization already exists with that name.', undefined, [
            { field: 'name', detail: 'This value is already in use and should be unique.' },
          ]);
        }
        return {
          result: created,
          audit: { action: 'create', resourceType: 'organization', resourceId: created.id, resourceTarget: created.name, organizationId: created.id, statusCode: 201 },
        };
      });
      return c.json(toOrganization(org), 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/organizations/{organization}',
      tags: ['Organizations'],
      summary: 'Get an organization by id or name',
      ...auth,
      request: { params: orgParam },
      responses: { 200: jsonContent(OrganizationSchema, 'OK'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const found = await readableOrganization(c.get('em'), c.get('actor'), c.req.valid('param').organization);
      if (!found) throw notFound();
      return c.json(toOrganization(found.org), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/organizations/{organization}/members',
      tags: ['Members'],
      summary: 'List the members of an organization',
      ...auth,
      request: { params: orgParam },
      responses: { 200: jsonContent(z.array(OrganizationMemberWithUserDataSchema), 'OK'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const em = c.get('em');
      const found = await readableOrganization(em, c.get('actor'), c.req.valid('param').organization);
      if (!found) throw notFound();
      const members = await membersWithUsers(em, found.org.id);
      return c.json(members.map((m) => toMemberWithUser(m.member, m.user)), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/organizations/{organization}/members/{user}',
      tags: ['Members'],
      summary: 'Add a user to an organization (organization admin)',
      ...auth,
      request: { params: memberParams },
      responses: { 200: jsonContent(OrganizationMemberSchema, 'Added'), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => {
      const em = c.get('em');
      const actor = c.get('actor');
      const params = c.req.valid('param');
      const org = await administeredOrganization(em, actor, params.organization);
      // admins add people who are not yet in their organization, so the lookup cannot be membership-scoped
      const user = await findUser(em, actor, params.user);
      if (!user) throw notFound();
      const member = await auditedTransaction(c, async (tx) => {
        const added = await addMember(tx, org.id, user.id);
        if (!added) throw new ApiError(409, 'Organization member already exists in this organization.');
        return {
          result: added,
          audit: { action: 'create', resourceType: 'organization_member', resourceId: user.id, resourceTarget: user.username, organizationId: org.id, statusCode: 200 },
        };
      });
      return c.json(toMember(member), 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'put',
      path: '/organizations/{organization}/members/{user}/roles',
      tags: ['Members'],
      summary: "Replace a member's organization roles (organization admin)",
      ...auth,
      request: { params: memberParams, body: jsonBody(rolesBody) },
      responses: { 200: jsonContent(OrganizationMemberSchema, 'Updated'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const em = c.get('em');
      const actor = c.get('actor');
      const params = c.req.valid('param');
      const org = await administeredOrganization(em, actor, params.organization);
      const user = await findUser(em, actor, params.user);
      const member = user ? await findMember(em, org.id, user.id) : null;
      if (!user || !member) throw notFound();
      if (user.id === actor.userId) throw new ApiError(400, 'You cannot change your own organization roles.');
      const before = [...member.roles];
      await auditedTransaction(c, async (tx) => {
        await setMemberRoles(tx, member, c.req.valid('json').roles);
        return {
          result: null,
          audit: {
            action: 'write',
            resourceType: 'organization_member',
            resourceId: user.id,
            resourceTarget: user.username,
            organizationId: org.id,
            diff: { roles: { old: before, new: member.roles } },
            statusCode: 200,
          },
        };
      });
      return c.json(toMember(member), 200);
    },
  );
}
