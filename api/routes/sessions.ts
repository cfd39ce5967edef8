import { inTransaction } from '../../db/sql';
import { createRoute, z } from '@hono/zod-openapi';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor, ApiApp, AppDeps } from '../context';
import { ApiError, notFound } from '../errors';
import { requireUser, SESSION_TOKEN_COOKIE } from '../middleware/auth';
import { refuseCrossSite } from '../middleware/csrf';
import { readableUser, setPasswordHash, userByEmail } from '../../db/users';
import { tokenNameTaken } from '../../db/api-keys';
import { auditRefusal, auditedTransaction, clientIp } from '../audit';
import { ErrorSchema, SESSION_SECURITY, errorResponses, jsonBody, jsonContent } from '../dto/common';
import { API_TOKEN_LIFETIME_S, MAX_TOKEN_LIFETIME_S, SESSION_LIFETIME_S, createApiKey, deleteApiKey } from '../auth/api-keys';
import { burnPasswordCheck, hashPassword, needsRehash, verifyPassword } from '../auth/passwords';
import { LoginThrottle } from '../auth/login-throttle';

// Sessions and API keys: password login (rate limited), logout, and long-lived tokens.

const BAD_CREDENTIALS = 'Incorrect email or password.';

const loginBody = z
  .object({ email: z.string().trim().min(1).max(254), password: z.string().min(1).max(1024) })
  .openapi('LoginWithPasswordRequest');
const loginResponse = z.object({ session_token: z.string() }).openapi('LoginWithPasswordResponse');
const authMethodsResponse = z
  .object({
    password: z.object({ enabled: z.boolean() }),
    github: z.object({ enabled: z.boolean() }),
    oidc: z.object({ enabled: z.boolean(), signInText: z.string(), iconUrl: z.string() }),
  })
  .openapi('AuthMethods');
const keyResponse = z.object({ key: z.string() }).openapi('GenerateAPIKeyResponse');
const userParam = z.object({ user: z.string().min(1).openapi({ param: { name: 'user', in: 'path' } }) });
const tokenBody = z
  .object({
    token_name: z.string().trim().max(64).regex(/^[A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-" only').optional(),
    /** Go time.Duration JSON: nanoseconds */
    lifetime: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .optional()
      // the route's rule (else 400 "Invalid token lifetime."): 0 for the default, or at least 1 s; its
      // longest lifetime in nanoseconds is beyond the largest integer JSON carries exactly
      .openapi({ not: { exclusiveMinimum: 0, exclusiveMaximum: 1e9 } }),
    scope: z.string().optional(),
  })
  .openapi('CreateTokenRequest');

/** The user a key may be minted for: oneself, or anyone for a site owner; others are not found. */
async function keyOwner(em: EntityManager, actor: Actor, ref: string) {
  const user = await readableUser(em, actor, ref);
  if (!user || (user.id !== actor.userId && !actor.isSiteOwner)) throw notFound();
  return user;
}

export function registerSessionRoutes(api: ApiApp, deps: AppDeps): void {
  // failures counted in the database (api/auth/login-throttle.ts): the same limits in every API process
  const limiter = new LoginThrottle();
  const secureCookie = deps.config.http.accessUrl.startsWith('https:');

  api.openapi(
    createRoute({
      method: 'post',
      path: '/users/login',
      tags: ['Authorization'],
      summary: 'Log in with email and password',
      middleware: [refuseCrossSite(deps.config.http.accessUrl)] as const,
      request: { body: jsonBody(loginBody) },
      responses: {
        201: jsonContent(loginResponse, 'Logged in'),
        429: jsonContent(ErrorSchema, 'Too many failed attempts'),
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { email, password } = c.req.valid('json');
      const em = c.get('em');
      const decision = await inTransaction(deps.orm, (tx) => limiter.attempt(tx, email, clientIp(c)));
      if (!decision.allowed) {
        c.header('Retry-After', String(decision.retryAfterS));
        return c.json(
          {
            message: 'Too many failed login attempts. Try again later.',
            detail: `Retry after ${decision.retryAfterS} seconds.`,
          },
          429,
        );
      }
      const user = await userByEmail(em, email);
      const valid = user?.passwordHash ? await verifyPassword(password, user.passwordHash) : await burnPasswordCheck(password);
      if (!user || !valid) {
        await auditRefusal(c, { action: 'login', resourceType: 'api_key', userId: user?.id ?? null, statusCode: 401 });
        throw new ApiError(401, BAD_CREDENTIALS);
      }
      if (user.status === 'suspended') {
        await auditRefusal(c, { action: 'login', resourceType: 'api_key', userId: user.id, statusCode: 401 });
        throw new ApiError(401, 'Your account is suspended. Contact an admin to reactivate your account.');
      }
      // a hash made at an older, lower cost is replaced now that the password is at hand
      const rehashed = user.passwordHash && needsRehash(user.passwordHash) ? await hashPassword(password) : null;
      const key = await auditedTransaction(c, async (tx) => {
        await limiter.succeeded(tx, decision);
        if (rehashed) await setPasswordHash(tx, user.id, rehashed);
        const created = await createApiKey(tx, { userId: user.id, lifetimeSeconds: SESSION_LIFETIME_S, loginType: 'password' });
        return {
          result: created,
          audit: { action: 'login', resourceType: 'api_key', resourceTarget: created.id, userId: user.id, statusCode: 201 },
        };
      });
      // browsers authenticate with the cookie; CLIs and SDKs use the token from the body
      setCookie(c, SESSION_TOKEN_COOKIE, key.token, {
        path: '/',
        httpOnly: true,
        sameSite: 'Lax',
        secure: secureCookie,
        expires: key.expiresAt,
      });
      return c.json({ session_token: key.token }, 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/users/authmethods',
      tags: ['Users'],
      summary: 'Which login methods this server offers (password only)',
      responses: { 200: jsonContent(authMethodsResponse, 'OK') },
    }),
    (c) =>
      c.json(
        {
          password: { enabled: true },
          github: { enabled: false },
          oidc: { enabled: false, signInText: '', iconUrl: '' },
        },
        200,
      ),
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/users/logout',
      tags: ['Users'],
      summary: 'Revoke the session token used for this request',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      responses: { 200: jsonContent(ErrorSchema, 'Logged out'), ...errorResponses(401) },
    }),
    async (c) => {
      const actor = c.get('actor');
      await auditedTransaction(c, async (tx) => {
        await deleteApiKey(tx, actor.apiKeyId);
        return { result: null, audit: { action: 'logout', resourceType: 'api_key', resourceTarget: actor.apiKeyId, statusCode: 200 } };
      });
      // after the commit: forgotten earlier, a concurrent request could cache the key again
      c.get('sessions')?.forgetKey(actor.apiKeyId);
      deleteCookie(c, SESSION_TOKEN_COOKIE, { path: '/' });
      return c.json({ message: 'Logged out!' }, 200);
    },
  );


  api.openapi(
    createRoute({
      method: 'post',
      path: '/users/{user}/keys',
      tags: ['Users'],
      summary: 'Create an API key (30-day lifetime)',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: userParam },
      responses: { 201: jsonContent(keyResponse, 'Created'), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const user = await keyOwner(c.get('em'), c.get('actor'), c.req.valid('param').user);
      const key = await auditedTransaction(c, async (tx) => {
        const created = await createApiKey(tx, { userId: user.id, lifetimeSeconds: API_TOKEN_LIFETIME_S, loginType: 'token' });
        return { result: created, audit: { action: 'create', resourceType: 'api_key', resourceTarget: created.id, statusCode: 201 } };
      });
      return c.json({ key: key.token }, 201);
    },
  );

  api.openapi(
    createRoute({
      method: 'post',
      path: '/users/{user}/keys/tokens',
      tags: ['Users'],
      summary: 'Create a named API token with an optional lifetime (nanoseconds, as Go durations)',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: userParam, body: jsonBody(tokenBody) },
      responses: { 201: jsonContent(keyResponse, 'Created'), ...errorResponses(400, 401, 404, 409) },
    }),
    async (c) => {
      const user = await keyOwner(c.get('em'), c.get('actor'), c.req.valid('param').user);
      const body = c.req.valid('json');
      const lifetimeSeconds = body.lifetime ? Math.floor(body.lifetime / 1e9) : API_TOKEN_LIFETIME_S;
      if (lifetimeSeconds < 1 || lifetimeSeconds > MAX_TOKEN_LIFETIME_S) {
        throw new ApiError(400, 'Invalid token lifetime.', undefined, [
          { field: 'lifetime', detail: `must be between 1s and ${MAX_TOKEN_LIFETIME_S / 86400} days` },
        ]);
      }
      const em = c.get('em');
      const tokenName = body.token_name ?? '';
      if (tokenName && (await tokenNameTaken(em, user.id, tokenName))) {
        throw new ApiError(409, `A token with name "${tokenName}" already exists.`, undefined, [
          { field: 'token_name', detail: 'This value is already in use and should be unique.' },
        ]);
      }
      const key = await auditedTransaction(c, async (tx) => {
        const created = await createApiKey(tx, { userId: user.id, lifetimeSeconds, loginType: 'token', tokenName });
        return { result: created, audit: { action: 'create', resourceType: 'api_key', resourceTarget: tokenName || created.id, statusCode: 201 } };
      });
      return c.json({ key: key.token }, 201);
    },
  );
}
