import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../context';
import { ApiError } from '../errors';
import { readableUser } from '../../db/users';
import { readableOrganization } from '../../db/organizations';
import { parseUuid } from '../../domain/ids';
import {
  parseTaskQuery,
  unknownOrganizationError,
  unknownOwnerError,
  type QueryValidation,
} from '../../domain/task-search';
import type { TaskStatus } from '../../domain/task-status';

// `q` of GET /tasks (spec §5): the pure grammar lives in domain/task-search.ts; this part resolves
// names to ids the way Coder does (owner "me" / UUID / username, organization UUID / name), all
// errors together in one 400.

export interface TaskSearch {
  ownerId?: string;
  organizationId?: string;
  status?: TaskStatus;
}

async function resolveOwner(em: EntityManager, actor: Actor, value: string): Promise<string | null> {
  if (value === 'me') return actor.userId;
  // A UUID is taken as is, without a lookup: an unknown id simply matches nothing.
  const id = parseUuid(value);
  if (id) return id;
  return (await readableUser(em, actor, value))?.id ?? null;
}

async function resolveOrganization(em: EntityManager, actor: Actor, value: string): Promise<string | null> {
  const id = parseUuid(value);
  if (id) return id;
  return (await readableOrganization(em, actor, value))?.org.id ?? null;
}

export async function resolveTaskSearch(em: EntityManager, actor: Actor, q: string): Promise<TaskSearch> {
  const parsed = parseTaskQuery(q);
  const fail = (validations: QueryValidation[]) => new ApiError(400, 'Invalid task search query.', undefined, validations);
  // A malformed query element stops parsing; nothing else is reported with it.
  if (parsed.errors.some((e) => e.field === 'q')) throw fail(parsed.errors);

  const search: TaskSearch = {};
  const errors: QueryValidation[] = [];
  const { owner, organization, status } = parsed.filters;
  if (owner !== undefined) {
    const ownerId = await resolveOwner(em, actor, owner);
    if (ownerId) search.ownerId = ownerId;
    else errors.push(unknownOwnerError(owner));
  }
  if (organization !== undefined) {
    const organizationId = await resolveOrganization(em, actor, organization);
    if (organizationId) search.organizationId = organizationId;
    else errors.push(unknownOrganizationError(organization));
  }
  if (status !== undefined) search.status = status as TaskStatus;
  errors.push(...parsed.errors);
  if (errors.length > 0) throw fail(errors);
  return search;
}
