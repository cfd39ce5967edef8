// Account and template fixtures for black-box API tests. Everything goes through the HTTP API, as a
// client would; signatures are stable — other test files depend on them.
//
//   const owner = await setupOwner(stack);                       // first user (site owner) + default org
//   const alice = await createUserWithToken(stack, owner.token, { username: 'alice' });
//   const admin = await createUserWithToken(stack, owner.token, { username: 'ada', orgRoles: ['organization-admin'] });
//   const { template, version } = await createAiTemplate(stack, owner.token, owner.org.id);
//   // version.id is an echo-provisioned template version with has_ai_task = true
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestStack } from './stack';

/** Coder's User JSON (the fields tests use most; the body has more). */
export interface UserJson {
  id: string;
  username: string;
  email: string;
  name: string;
  status: string;
  organization_ids: string[];
  roles: { name: string; display_name: string }[];
  [k: string]: unknown;
}
export interface OrganizationJson {
  id: string;
  name: string;
  display_name: string;
  is_default: boolean;
  [k: string]: unknown;
}
export interface TemplateJson {
  id: string;
  name: string;
  organization_id: string;
  active_version_id: string;
  [k: string]: unknown;
}
export interface TemplateVersionJson {
  id: string;
  template_id: string;
  organization_id: string;
  name: string;
  has_ai_task: boolean;
  presets: { ID: string; Name: string; Parameters: { Name: string; Value: string }[] }[];
  [k: string]: unknown;
}

export const OWNER_PASSWORD = 'owner-password-1';
export const USER_PASSWORD = 'user-password-1';

function expectStatus(res: { status: number; body: unknown }, status: number, what: string): void {
  assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
}

const suffix = () => randomBytes(3).toString('hex');

/**
 * Creates the first user (site owner, admin of the default organization) and logs in.
 * Call once per stack (the first user can only be created once).
 */
export async function setupOwner(
  stack: TestStack,
  opts: { username?: string; email?: string; password?: string } = {},
): Promise<{ token: string; user: UserJson; org: OrganizationJson; password: string }> {
  const username = opts.username ?? 'owner';
  const email = opts.email ?? `${username}@example.com`;
  const password = opts.password ?? OWNER_PASSWORD;
  const first = await stack.api('POST', '/api/v2/users/first', { body: { email, username, password, name: 'Site Owner' } });
  expectStatus(first, 201, 'POST /users/first');
  const login = await stack.api('POST', '/api/v2/users/login', { body: { email, password } });
  expectStatus(login, 201, 'POST /users/login');
  const token: string = login.body.session_token;
  const me = await stack.api('GET', '/api/v2/users/me', { token });
  expectStatus(me, 200, 'GET /users/me');
  const org = await stack.api('GET', `/api/v2/organizations/${first.body.organization_id}`, { token });
  expectStatus(org, 200, 'GET /organizations/{org}');
  return { token, user: me.body, org: org.body, password };
}

/**
 * Creates a user through the site owner and mints an API key for them (no password login, so
 * the login rate limit never interferes). By default the user joins the default organization;
 * `orgRoles: ['organization-admin']` makes them admin of every organization they join.
 */
export async function createUserWithToken(
  stack: TestStack,
  ownerToken: string,
  opts: { username: string; email?: string; password?: string; orgRoles?: string[]; organizationIds?: string[] },
): Promise<{ token: string; user: UserJson; password: string }> {
  const password = opts.password ?? USER_PASSWORD;
  const created = await stack.api('POST', '/api/v2/users', {
    token: ownerToken,
    body: {
      email: opts.email ?? `${opts.username}@example.com`,
      username: opts.username,
      password,
      ...(opts.organizationIds ? { organization_ids: opts.organizationIds } : {}),
    },
  });
  expectStatus(created, 201, 'POST /users');
  const user: UserJson = created.body;
  if (opts.orgRoles && opts.orgRoles.length > 0) {
    for (const orgId of user.organization_ids) {
      const res = await stack.api('PUT', `/api/v2/organizations/${orgId}/members/${user.id}/roles`, {
        token: ownerToken,
        body: { roles: opts.orgRoles },
      });
      expectStatus(res, 200, 'PUT /organizations/{org}/members/{user}/roles');
    }
  }
  const key = await stack.api('POST', `/api/v2/users/${user.id}/keys`, { token: ownerToken });
  expectStatus(key, 201, 'POST /users/{user}/keys');
  return { token: key.body.key, user, password };
}

/** An echo-provisioned workspace whose single app is the AI task app (builds finish instantly). */
export function aiWorkspaceDefinition(): Record<string, unknown> {
  return {
    provisioner: 'echo',
    apps: [{ slug: 'ai-agent', display_name: 'AI Agent', healthcheck: { path: '/status', interval_s: 1, threshold: 3 } }],
    ai_task: { app: 'ai-agent' },
  };
}

/**
 * Creates a template (and its first, active version) in `orgId` with `token` (an org admin or
 * site owner). `overrides.workspace` is merged over aiWorkspaceDefinition() key by key.
 */
export async function createAiTemplate(
  stack: TestStack,
  token: string,
  orgId: string,
  overrides: {
    name?: string;
    display_name?: string;
    icon?: string;
    description?: string;
    workspace?: Record<string, unknown>;
    presets?: { name: string; parameters?: Record<string, string> }[];
  } = {},
): Promise<{ template: TemplateJson; version: TemplateVersionJson }> {
  const { workspace, ...rest } = overrides;
  const created = await stack.api('POST', `/api/v2/organizations/${orgId}/templates`, {
    token,
    body: { name: `ai-${suffix()}`, ...rest, workspace: { ...aiWorkspaceDefinition(), ...workspace } },
  });
  expectStatus(created, 201, 'POST /organizations/{org}/templates');
  const version = await stack.api('GET', `/api/v2/templateversions/${created.body.active_version_id}`, { token });
  expectStatus(version, 200, 'GET /templateversions/{id}');
  return { template: created.body, version: version.body };
}
