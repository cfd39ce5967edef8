import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary(),
    email: p.string(),
    username: p.string(),
    name: p.string().default(''),
    avatarUrl: p.string().default(''),
    // scrypt, "scrypt$N$r$p$salt$hash"; null for users who log in with tokens only
    passwordHash: p.string().nullable(),
    isSiteOwner: p.boolean().default(false),
    status: p.string().default('active'),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  uniques: [
    { name: 'users_email_lower_key', expression: 'create unique index "users_email_lower_key" on "users" (lower("email"))' },
    { name: 'users_username_lower_key', expression: 'create unique index "users_username_lower_key" on "users" (lower("username"))' },
  ],
});
export type IUser = InferEntity<typeof User>;

export const Organization = defineEntity({
  name: 'Organization',
  tableName: 'organizations',
  properties: {
    id: p.uuid().primary(),
    name: p.string().unique(),
    displayName: p.string().default(''),
    description: p.string().default(''),
    icon: p.string().default(''),
    isDefault: p.boolean().default(false),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
export type IOrganization = InferEntity<typeof Organization>;

export const OrganizationMember = defineEntity({
  name: 'OrganizationMember',
  tableName: 'organization_members',
  properties: {
    organization: p.manyToOne(Organization).primary().mapToPk().deleteRule('cascade'),
    user: p.manyToOne(User).primary().mapToPk().deleteRule('cascade'),
    // organization roles beyond plain membership, e.g. ["organization-admin"]
    roles: p.array().default([]),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  primaryKeys: ['organization', 'user'],
});
export type IOrganizationMember = InferEntity<typeof OrganizationMember>;

export const ApiKey = defineEntity({
  name: 'ApiKey',
  tableName: 'api_keys',
  properties: {
    // the public half of "<id>-<secret>"; only a SHA-256 of the secret is stored
    id: p.string().length(10).primary(),
    user: p.manyToOne(User).mapToPk().deleteRule('cascade').index(),
    hashedSecret: p.string(),
    loginType: p.string().default('password'),
    tokenName: p.string().default(''),
    expiresAt: p.datetime(),
    lastUsed: p.datetime(),
    createdAt: p.datetime(),
  },
});
export type IApiKey = InferEntity<typeof ApiKey>;

// Failed password logins, keyed by a SHA-256 of "<client address>|<email>" (api/auth/login-throttle.ts):
// no address or email is stored, and rows older than the window go as new failures arrive.
export const LoginFailure = defineEntity({
  name: 'LoginFailure',
  tableName: 'login_failures',
  properties: {
    id: p.bigint().primary().autoincrement(),
    keyHash: p.character().length(64),
    failedAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [
    {
      name: 'login_failures_key_hash_failed_at_index',
      expression: 'create index "login_failures_key_hash_failed_at_index" on "login_failures" ("key_hash", "failed_at" desc)',
    },
    { properties: ['failedAt'] },
  ],
});
export type ILoginFailure = InferEntity<typeof LoginFailure>;
