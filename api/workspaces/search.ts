import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../context';
import { ApiError, type Validation } from '../errors';
import { readableOrganization } from '../../db/organizations';
import type { WorkspaceFilters } from '../../db/workspaces';
import { parseUuid } from '../../domain/ids';
import { parseWorkspaceQuery } from '../../domain/workspace-search';
import { goQuote } from '../../domain/go-text';
import { unknownOrganizationError } from '../../domain/task-search';

// GET /workspaces' query: `q` (domain/workspace-search.ts) resolved the way coderd does — owner "me"
// is the caller and any other owner a username (an unknown one matches nothing), an organization a
// UUID or a name the caller may see — and Coder's limit / offset, where 0 or nothing means all.

const INT32_MAX = 2 ** 31 - 1;

export function parseWorkspacePage(query: { limit?: string; offset?: string }): { limit: number; offset: number } {
  const errors: Validation[] = [];
  const int = (field: string, raw: string | undefined): number => {
    if (raw === undefined || raw === '') return 0;
    const n = /^\+?\d+$/.test(raw) ? Number(raw) : NaN;
    if (Number.isSafeInteger(n) && n <= INT32_MAX) return n;
    const why = /^-\d+$/.test(raw) ? 'value is negative' : `strconv.ParseInt: parsing ${goQuote(raw)}: invalid syntax`;
    errors.push({ field, detail: `Query param ${goQuote(field)} must be a valid 32-bit positive integer: ${why}` });
    return 0;
  };
  const page = { limit: int('limit', query.limit), offset: int('offset', query.offset) };
  if (errors.length > 0) throw new ApiError(400, 'Query parameters have invalid values.', undefined, errors);
  return page;
}

export async function resolveWorkspaceSearch(em: EntityManager, actor: Actor, q: string): Promise<WorkspaceFilters> {
  const { query, errors } = parseWorkspaceQuery(q);
  const filters: WorkspaceFilters = { deleted: query.deleted };
  if (query.organization !== undefined) {
    const id = parseUuid(query.organization) ?? (await readableOrganization(em, actor, query.organization))?.org.id;
    if (id) filters.organizationId = id;
    else {
      errors.push(unknownOrganizationError(query.organization));
    }
  }
  if (errors.length > 0) throw new ApiError(400, 'Invalid workspace search query.', undefined, errors);
  if (query.owner === 'me') filters.ownerId = actor.userId;
  else if (query.owner !== undefined) filters.ownerUsername = query.owner;
  if (query.name !== undefined) filters.name = query.name;
  if (query.template !== undefined) filters.templateName = query.template;
  if (query.status !== undefined) filters.status = query.status;
  if (query.ids !== undefined) filters.ids = query.ids;
  if (query.hasAiTask !== undefined) filters.hasAiTask = query.hasAiTask;
  if (query.outdated !== undefined) filters.usingActive = !query.outdated;
  return filters;
}
