import { z } from '@hono/zod-openapi';
import type { IOrganization, IOrganizationMember, IUser } from '../../db/entities';
import type { UserDetails } from '../../db/users';

// Coder's codersdk shapes for users, organizations and memberships (same JSON names), built from
// entities here so no entity ever leaves the API layer. Pure: what they show beyond the rows is
// loaded by db/ and handed in.

const ROLE_DISPLAY_NAMES: Record<string, string> = {
  owner: 'Owner',
  member: 'Member',
  'organization-admin': 'Organization Admin',
  'organization-member': 'Organization Member',
};

export const SlimRoleSchema = z
  .object({ name: z.string(), display_name: z.string(), organization_id: z.string().optional() })
  .openapi('SlimRole');

export function slimRole(name: string, organizationId?: string) {
  return { name, display_name: ROLE_DISPLAY_NAMES[name] ?? name, ...(organizationId ? { organization_id: organizationId } : {}) };
}

export const UserSchema = z
  .object({
    id: z.string().uuid(),
    username: z.string(),
    avatar_url: z.string(),
    name: z.string(),
    email: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    last_seen_at: z.string(),
    status: z.enum(['active', 'dormant', 'suspended']),
    login_type: z.string(),
    theme_preference: z.string(),
    organization_ids: z.array(z.string().uuid()),
    roles: z.array(SlimRoleSchema),
    /** Coder's AI seat licensing; taskd has no seats to assign */
    has_ai_seat: z.boolean(),
  })
  .openapi('User');
export type UserDto = z.infer<typeof UserSchema>;

/** Converts users to Coder's User, with the memberships and last activity db/users.ts loaded for them. */
export function toUsers(users: IUser[], details: UserDetails): UserDto[] {
  return users.map((u) => ({
    id: u.id,
    username: u.username,
    avatar_url: u.avatarUrl,
    name: u.name,
    email: u.email,
    created_at: u.createdAt.toISOString(),
    updated_at: u.updatedAt.toISOString(),
    last_seen_at: (details.lastSeen.get(u.id) ?? u.createdAt).toISOString(),
    status: u.status as UserDto['status'],
    login_type: u.passwordHash ? 'password' : 'none',
    theme_preference: '',
    organization_ids: details.memberships.filter((m) => m.user === u.id).map((m) => m.organization),
    roles: u.isSiteOwner ? [slimRole('owner')] : [],
    has_ai_seat: false,
  }));
}

export const OrganizationSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    display_name: z.string(),
    icon: z.string(),
    description: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
    is_default: z.boolean(),
    /** roles a new member gets beyond organization-member: none in taskd */
    default_org_member_roles: z.array(z.string()),
  })
  .openapi('Organization');

export function toOrganization(org: IOrganization): z.infer<typeof OrganizationSchema> {
  return {
    id: org.id,
    name: org.name,
    display_name: org.displayName || org.name,
    icon: org.icon,
    description: org.description,
    created_at: org.createdAt.toISOString(),
    updated_at: org.updatedAt.toISOString(),
    is_default: org.isDefault,
    default_org_member_roles: [],
  };
}

export const OrganizationMemberSchema = z
  .object({
    user_id: z.string().uuid(),
    organization_id: z.string().uuid(),
    created_at: z.string(),
    updated_at: z.string(),
    roles: z.array(SlimRoleSchema),
  })
  .openapi('OrganizationMember');

export function toMember(m: IOrganizationMember): z.infer<typeof OrganizationMemberSchema> {
  return {
    user_id: m.user,
    organization_id: m.organization,
    created_at: m.createdAt.toISOString(),
    updated_at: m.updatedAt.toISOString(),
    roles: m.roles.map((r) => slimRole(r, m.organization)),
  };
}

export const OrganizationMemberWithUserDataSchema = OrganizationMemberSchema.extend({
  username: z.string(),
  name: z.string().optional(),
  avatar_url: z.string().optional(),
  email: z.string(),
  status: z.string(),
  login_type: z.string(),
  user_created_at: z.string(),
  user_updated_at: z.string(),
  global_roles: z.array(SlimRoleSchema),
  has_ai_seat: z.boolean(),
}).openapi('OrganizationMemberWithUserData');

export function toMemberWithUser(m: IOrganizationMember, u: IUser): z.infer<typeof OrganizationMemberWithUserDataSchema> {
  return {
    ...toMember(m),
    username: u.username,
    ...(u.name ? { name: u.name } : {}),
    ...(u.avatarUrl ? { avatar_url: u.avatarUrl } : {}),
    email: u.email,
    status: u.status,
    login_type: u.passwordHash ? 'password' : 'none',
    user_created_at: u.createdAt.toISOString(),
    user_updated_at: u.updatedAt.toISOString(),
    global_roles: u.isSiteOwner ? [slimRole('owner')] : [],
    has_ai_seat: false,
  };
}
