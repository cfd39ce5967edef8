// The `q` grammar of GET /workspaces, as coderd's searchquery package reads it: a bare term is a
// name (or owner/name), key:value terms filter, each key at most once. Values stay unresolved
// (owner "me" and organization names are resolved by the API layer).

import { goQuote } from './go-text';
import { parseUuid } from './ids';
import { searchTerms } from './search-terms';
import type { QueryValidation } from './task-search';

export const WORKSPACE_STATUSES = [
  'pending', 'starting', 'running', 'stopping', 'stopped', 'failed', 'canceling', 'canceled', 'deleting', 'deleted',
] as const;
export type WorkspaceStatus = (typeof WORKSPACE_STATUSES)[number];

export interface WorkspaceQuery {
  owner?: string;
  name?: string;
  template?: string;
  organization?: string;
  status?: WorkspaceStatus;
  ids?: string[];
  hasAiTask?: boolean;
  deleted: boolean;
  outdated?: boolean;
}

// Keys taskd answers. Coder's other keys (has-agent, healthy, dormant, last_used_*, param, shared...)
// describe things taskd's workspaces do not have; they are refused by name rather than ignored.
const KNOWN_KEYS = ['owner', 'name', 'template', 'organization', 'status', 'id', 'has-ai-task', 'deleted', 'outdated'];

/** Go's strconv.ParseBool (on lower-cased text): undefined when it would fail. */
export function goBool(value: string): boolean | undefined {
  if (['1', 't', 'true', 'T', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'false', 'F', 'FALSE', 'False'].includes(value)) return false;
  return undefined;
}

export function parseWorkspaceQuery(q: string): { query: WorkspaceQuery; errors: QueryValidation[] } {
  const query: WorkspaceQuery = { deleted: false };
  const { values, error } = searchTerms(q, (term, add) => {
    const parts = term.split('/').filter((p) => p !== '');
    if (parts.length === 1) add('name', parts[0] ?? '');
    else if (parts.length === 2) {
      add('owner', parts[0] ?? '');
      add('name', parts[1] ?? '');
    } else if (parts.length > 2) return `Query element ${goQuote(term)} can only contain 1 '/'`;
  });
  if (error) return { query, errors: [{ field: 'q', detail: error }] };

  const errors: QueryValidation[] = [];
  const single = (key: string): string | undefined => {
    const list = values.get(key);
    if (!list) return undefined;
    if (list.length > 1) {
      errors.push({
        field: key,
        detail: `Query param ${goQuote(key)} provided more than once, found ${list.length} times. Only provide 1 instance of this query param.`,
      });
      return undefined;
    }
    return list[0] === '' ? undefined : list[0];
  };
  const bool = (key: string): boolean | undefined => {
    const raw = single(key);
    if (raw === undefined) return undefined;
    const value = goBool(raw);
    if (value === undefined) {
      errors.push({
        field: key,
        detail: `Query param ${goQuote(key)} must be a valid boolean: strconv.ParseBool: parsing ${goQuote(raw)}: invalid syntax`,
      });
    }
    return value;
  };

  const text = { owner: single('owner'), name: single('name'), template: single('template'), organization: single('organization') };
  for (const [key, value] of Object.entries(text)) if (value !== undefined) query[key as keyof typeof text] = value;
  const status = single('status');
  if (status !== undefined) {
    if ((WORKSPACE_STATUSES as readonly string[]).includes(status)) query.status = status as WorkspaceStatus;
    else errors.push({ field: 'status', detail: `Query param "status" has invalid value: ${goQuote(status)} is not a valid value` });
  }
  const ids = values.get('id')?.flatMap((v) => v.split(',')).filter((v) => v !== '');
  if (ids && ids.length > 0) {
    const parsed = ids.map(parseUuid);
    if (parsed.some((id) => id === null)) errors.push({ field: 'id', detail: 'Query param "id" must be a valid uuid' });
    else query.ids = parsed as string[];
  }
  const hasAiTask = bool('has-ai-task');
  if (hasAiTask !== undefined) query.hasAiTask = hasAiTask;
  query.deleted = bool('deleted') ?? false;
  const outdated = bool('outdated');
  if (outdated !== undefined) query.outdated = outdated;
  for (const key of values.keys()) {
    if (!KNOWN_KEYS.includes(key)) errors.push({ field: key, detail: `Query param ${goQuote(key)} is not a valid query param` });
  }
  return { query, errors };
}
