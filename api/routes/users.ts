import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../context';
import { ApiError, notFound } from '../errors';
import { requireUser } from '../middleware/auth';
import { refuseCrossSite } from '../middleware/csrf';
import { ORG_ADMIN_ROLE } from '../../db/scope';
import { countUsers, lockFirstUser, readableUser, userDetails, visibleUsers } from '../../db/users';
import { ensureDefaultOrganization, organizationsByIds, sharedOrganizations } from '../../db/organizations';
import { auditedTransaction } from '../audit';
import { createAccount, emailSchema, passwordSchema, realNameSchema, usernameSchema } from '../accounts';
import { toOrganization, toUsers, OrganizationSchema, UserSchema } from '../dto/accounts';
import {
  ErrorSchema,
  SESSION_SECURITY,
  errorResponses,
  jsonBody,
  jsonContent,
  registerSessionSecurityScheme,
} from '../dto/common';
import { BUILD_VERSION, BUILD_VERSION_HEADER } from './buildinfo';

// Users: first-user setup, creation by the site owner, and reads (Coder's /users routes).

const userParam = z.object({
  user: z.string().min(1).openapi({ param: { name: 'user', in: 'path' }, description: '"me", a user id or a username' }),
});

const firstUserBody = z
  .object({
    email: emailSchema,
    username: usernameSchema,
    name: realNameSchema.optional(),
    password: passwordSchema,
    trial: z.boolean().optional(),
  })
  .openapi('CreateFirstUserRequest');

const firstUserResponse = z
  .object({ user_id: z.string().uuid(), organization_id: z.string().uuid() })
  .openapi('CreateFirstUserResponse');

const createUserBody = z
  .object({
    email: emailSchema,
    username: usernameSchema,
    name: realNameSchema.optional(),
    password: passwordSchema,
    login_type: z.enum(['password', '']).optional(),
    /** omitted → the default organization; [] → no organization */
    organization_ids: z.array(z.string().uuid()).optional(),
    /** older SDKs send a single id */
    organization_id: z.string().uuid().optional(),
  })
  .openapi('CreateUserRequestWithOrgs');

export function registerUserRoutes(api: ApiApp, deps: AppDeps): void {
  registerSessionSecurityScheme(api);

  api.openapi(
    createRoute({
      method: 'get',
      path: '/users/first',
      tags: ['Users'],
      summary: 'Whether the first user has been created',
      responses: { 200: jsonContent(ErrorSchema, 'A user exists'), 404: jsonContent(ErrorSchema, 'No user yet') },
    }),
    async (c) => {
      // Coder's SDK trusts a 404 here only if the build-version header proves it talks to a Coder API
      c.header(BUILD_VERSION_HEADER, BUILD_VERSION);
      const count = await countUsers(c.get('em'));
      if (count === 0) return c.json({ message: 'The initial user has not been created!' }, 404);
      return c.json({ message: 'The initial user has already been created!' }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/users/first',
      tags: ['Users'],
      summary: 'Create the first user (site owner) and the default organization',
      middleware: [refuseCrossSite(deps.config.http.accessUrl)] as const,
      request: { body: jsonBody(firstUserBody) },
      responses: { 201: jsonContent(firstUserResponse, 'Created'), ...errorResponses(400, 403, 409) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const result = await auditedTransaction(c, async (em) => {
        await lockFirstUser(em);
        if ((await countUsers(em)) > 0) throw new ApiError(409, 'The initial user has already been created.');
        const org = await ensureDefaultOrganization(em);
        const user = await createAccount(
          em,
          { email: body.email, username: body.username, name: body.name, password: body.password, isSiteOwner: true },
          [{ organizationId: org.id, roles: [ORG_ADMIN_ROLE] }],
        );
        return {
          result: { user, org },
          audit: {
            action: 'create',
            resourceType: 'user',
            resourceId: user.id,
            resourceTarget: user.username,
            userId: user.id,
            diff: { username: user.username, email: user.email, site_owner: true },
            statusCode: 201,
          },
        };
      });
      return c.json({ user_id: result.user.id, organization_id: result.org.id }, 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/users',
      tags: ['Users'],
      summary: 'Create a user (site owner only)',
      description: 'Every id in `organization_ids` must name an existing organization: else 400 "Organization not found." with a validation per id, as Coder answers.',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { body: jsonBody(createUserBody) },
      responses: { 201: jsonContent(UserSchema, 'Created'), ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => {
      const actor = c.get('actor');
      // creating users is a site-wide power; the route itself is public knowledge, so 403 hides nothing
      if (!actor.isSiteOwner) throw new ApiError(403, 'Forbidden.', 'Only site owners can create users.');
      const body = c.req.valid('json');
      const em = c.get('em');
      const user = await auditedTransaction(c, async (tx) => {
        let orgIds = body.organization_ids ?? (body.organization_id ? [body.organization_id] : undefined);
        if (orgIds === undefined) orgIds = [(await ensureDefaultOrganization(tx)).id];
        const unique = [...new Set(orgIds)];
        const found = await organizationsByIds(tx, unique);
        const missing = unique.filter((id) => !found.some((o) => o.id === id));
        if (missing.length > 0) {
          throw new ApiError(400, 'Organization not found.', undefined, [
            { field: 'organization_ids', detail: `organization ${missing[0]} does not exist` },
          ]);
        }
        const created = await createAccount(tx, body, unique.map((organizationId) => ({ organizationId, roles: [] })));
        return {
          result: created,
          audit: {
            action: 'create',
            resourceType: 'user',
            resourceId: created.id,
            resourceTarget: created.username,
            diff: { username: created.username, email: created.email },
            statusCode: 201,
          },
        };
      });
      return c.json(toUsers([user], await userDetails(em, [user.id]))[0]!, 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/users',
      tags: ['Users'],
      summary: 'List the users visible to the caller',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      responses: {
        200: jsonContent(z.object({ users: z.array(UserSchema), count: z.number().int() }).openapi('GetUsersResponse'), 'OK'),
        ...errorResponses(401),
      },
    }),
    async (c) => {
      const em = c.get('em');
      const users = await visibleUsers(em, c.get('actor'));
      return c.json({ users: toUsers(users, await userDetails(em, users.map((u) => u.id))), count: users.length }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/users/{user}',
      tags: ['Users'],
      summary: 'Get a user by "me", id or username',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: userParam },
      responses: { 200: jsonContent(UserSchema, 'OK'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const em = c.get('em');
      const user = await readableUser(em, c.get('actor'), c.req.valid('param').user);
      if (!user) throw notFound();
      return c.json(toUsers([user], await userDetails(em, [user.id]))[0]!, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/users/{user}/organizations',
      tags: ['Users'],
      summary: "The user's organizations (those the caller can also see)",
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: userParam },
      responses: { 200: jsonContent(z.array(OrganizationSchema), 'OK'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const em = c.get('em');
      const actor = c.get('actor');
      const user = await readableUser(em, actor, c.req.valid('param').user);
      if (!user) throw notFound();
      return c.json((await sharedOrganizations(em, actor, user.id)).map(toOrganization), 200);
    },
  );
}
