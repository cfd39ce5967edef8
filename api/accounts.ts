import { z } from '@hono/zod-openapi';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { IUser } from '../db/entities';
import { insertUser } from '../db/users';
import { parseUuid } from '../domain/ids';
import { hashPassword, passwordProblem, PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH } from './auth/passwords';
import { ApiError } from './errors';

// Creating accounts: the field rules (Coder's username grammar) and the 409 for a taken email or
// username, shared by the first-user setup and POST /users.

const USERNAME_RE = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
const UNIQUE_DETAIL = 'This value is already in use and should be unique.';

/** Coder's username rule, plus names that would be ambiguous in `{user}` path parameters. */
export const usernameSchema = z
  .string()
  .min(1, 'must be >= 1 character')
  .max(32, 'must be <= 32 characters')
  .regex(USERNAME_RE, 'must be alphanumeric with hyphens')
  .refine((v) => v.toLowerCase() !== 'me', { message: 'cannot use "me" as a username' })
  .refine((v) => parseUuid(v) === null, { message: 'cannot be a UUID' })
  // the two refinements in the document: within 32 characters of the grammar, a UUID can only be
  // 32 hex digits (parseUuid's compact form)
  .openapi({ not: { anyOf: [{ pattern: '^[mM][eE]$' }, { pattern: '^[0-9a-fA-F]{32}$' }] } });

// the limits are declared in the document and checked by passwordProblem, which words them as Coder does
export const passwordSchema = z
  .string()
  .superRefine((v, ctx) => {
    const problem = passwordProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .openapi({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });

// the document says which addresses zod's check takes, stricter than the "email" format's
export const emailSchema = z.string().trim().max(254).email('must be a valid email address').openapi({ pattern: z.regexes.email.source });
export const realNameSchema = z.string().trim().max(128, 'must be <= 128 characters');

export interface NewAccount {
  email: string;
  username: string;
  name?: string;
  password: string;
  isSiteOwner?: boolean;
}

/**
 * Inserts a user and their memberships in the caller's transaction. Duplicate email/username (also
 * when a concurrent insert wins the race) → 409 with a validation per clashing field.
 */
export async function createAccount(
  em: EntityManager,
  input: NewAccount,
  memberships: { organizationId: string; roles: string[] }[],
): Promise<IUser> {
  const { password, ...fields } = input;
  const result = await insertUser(em, { ...fields, passwordHash: await hashPassword(password) }, memberships);
  if ('taken' in result) {
    throw new ApiError(409, 'User already exists.', undefined, result.taken.map((field) => ({ field, detail: UNIQUE_DETAIL })));
  }
  return result.user;
}
