import { randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { raw, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Organization, OrganizationMember, User, type IOrganization, type IUser } from '../db/entities';
import { parseUuid } from '../domain/ids';
import { hashPassword, passwordProblem } from './auth/passwords';
import { ApiError } from './errors';

// Creating accounts: the field rules (Coder's username grammar) and the insert with its uniqueness
// checks, shared by the first-user setup and POST /users.

const USERNAME_RE = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
const UNIQUE_DETAIL = 'This value is already in use and should be unique.';

/** Coder's username rule, plus names that would be ambiguous in `{user}` path parameters. */
export const usernameSchema = z
  .string()
  .min(1, 'must be >= 1 character')
  .max(32, 'must be <= 32 characters')
  .regex(USERNAME_RE, 'must be alphanumeric with hyphens')
  .refine((v) => v.toLowerCase() !== 'me', { message: 'cannot use "me" as a username' })
  .refine((v) => parseUuid(v) === null, { message: 'cannot be a UUID' });

export const passwordSchema = z.string().superRefine((v, ctx) => {
  const problem = passwordProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const emailSchema = z.string().trim().max(254).email('must be a valid email address');
export const realNameSchema = z.string().trim().max(128, 'must be <= 128 characters');

export const DEFAULT_ORG_NAME = 'coder';

/** The default organization, created on first use (insert-if-absent, safe under concurrency). */
export async function ensureDefaultOrganization(em: EntityManager): Promise<IOrganization> {
  const existing = await em.findOne(Organization, { isDefault: true });
  if (existing) return existing;
  const now = new Date();
  await em.execute(
    `insert into organizations (id, name, display_name, description, icon, is_default, created_at, updated_at)
     values (?, ?, ?, ?, '', true, ?, ?) on conflict do nothing`,
    [randomUUID(), DEFAULT_ORG_NAME, 'Coder', 'The default organization.', now, now],
  );
  const org = await em.findOne(Organization, { isDefault: true });
  if (!org) throw new Error('default organization could not be created');
  return org;
}

export interface NewUser {
  email: string;
  username: string;
  name?: string;
  password: string;
  isSiteOwner?: boolean;
}

async function conflictsOf(em: EntityManager, u: NewUser) {
  const validations = [];
  if (await em.findOne(User, { [raw((a) => `lower(${a}.email)`)]: u.email.toLowerCase() })) {
    validations.push({ field: 'email', detail: UNIQUE_DETAIL });
  }
  if (await em.findOne(User, { [raw((a) => `lower(${a}.username)`)]: u.username.toLowerCase() })) {
    validations.push({ field: 'username', detail: UNIQUE_DETAIL });
  }
  return validations;
}

/**
 * Inserts a user and their memberships in the caller's transaction. Duplicate email/username (also
 * when a concurrent insert wins the race) → 409 with a validation per clashing field.
 */
export async function insertUser(
  em: EntityManager,
  input: NewUser,
  memberships: { organizationId: string; roles: string[] }[],
): Promise<IUser> {
  const clashes = await conflictsOf(em, input);
  if (clashes.length > 0) throw new ApiError(409, 'User already exists.', undefined, clashes);
  const now = new Date();
  const user = em.create(User, {
    id: randomUUID(),
    email: input.email,
    username: input.username,
    name: input.name ?? '',
    avatarUrl: '',
    passwordHash: await hashPassword(input.password),
    isSiteOwner: input.isSiteOwner ?? false,
    status: 'active',
    createdAt: now,
    updatedAt: now,
  });
  for (const m of memberships) {
    em.create(OrganizationMember, { organization: m.organizationId, user: user.id, roles: m.roles, createdAt: now, updatedAt: now });
  }
  try {
    await em.flush();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) {
      // lost a race with a concurrent insert; the violated index names the field
      const field = /users_email/.test(err.message) ? 'email' : 'username';
      throw new ApiError(409, 'User already exists.', undefined, [{ field, detail: UNIQUE_DETAIL }]);
    }
    throw err;
  }
  return user;
}
