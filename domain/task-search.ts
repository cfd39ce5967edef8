// The `q` grammar of GET /tasks (spec §5). Tokenising follows coderd's searchquery package
// step for step (including its quirks) because the Coder CLI and UI build these strings and
// expect the same filters and error texts back. Name resolution (me / uuid / username ->
// id) needs the database and happens in the API layer.

import { goQuote } from './go-text';
import { searchTerms } from './search-terms';
import { TASK_STATUSES, isTaskStatus } from './task-status';

export interface TaskQueryFilters {
  owner?: string;
  organization?: string;
  status?: string;
}

export interface QueryValidation {
  field: string;
  detail: string;
}

export interface ParsedTaskQuery {
  filters: TaskQueryFilters;
  errors: QueryValidation[];
}

const KNOWN_KEYS = ['owner', 'organization', 'status'] as const;

/** The validation the API returns when `owner:<v>` names no user the caller can see. */
export function unknownOwnerError(value: string): QueryValidation {
  return {
    field: 'owner',
    detail:
      `Query param "owner" has invalid value: user ${goQuote(value)} either does not exist, ` +
      'or you are unauthorized to view them',
  };
}

/** The validation the API returns when `organization:<v>` names no visible organization. */
export function unknownOrganizationError(value: string): QueryValidation {
  return {
    field: 'organization',
    detail:
      `Query param "organization" has invalid value: organization ${goQuote(value)} either does not exist, ` +
      'or you are unauthorized to view it',
  };
}

function fail(detail: string): ParsedTaskQuery {
  return { filters: {}, errors: [{ field: 'q', detail }] };
}

function invalidStatus(value: string): string {
  return (
    `Query param "status" has invalid value: ${goQuote(value)} is not a valid task status ` +
    `(must be one of: ${TASK_STATUSES.join(', ')})`
  );
}

/**
 * Parses `q`. Values are lower-cased and unresolved: `owner` may be "me", a UUID or a
 * username, `organization` a UUID or a name. Deliberate divergence from Coder: an unknown
 * status is a 400-style validation error here instead of a database cast failure (500).
 */
export function parseTaskQuery(q: string): ParsedTaskQuery {
  // A lone part is free text (or a quoted value holding ':'): it defaults to the owner.
  const { values, error } = searchTerms(q, (term, add) => add('owner', term));
  if (error) return fail(error);

  const filters: TaskQueryFilters = {};
  const errors: QueryValidation[] = [];
  // Only the first value of a repeated key counts, and an empty value means "no filter".
  const first = (key: string): string | undefined => {
    const v = values.get(key)?.[0];
    return v === undefined || v === '' ? undefined : v;
  };
  const owner = first('owner');
  if (owner !== undefined) filters.owner = owner;
  const organization = first('organization');
  if (organization !== undefined) filters.organization = organization;
  const status = first('status');
  if (status !== undefined) {
    if (isTaskStatus(status)) filters.status = status;
    else errors.push({ field: 'status', detail: invalidStatus(status) });
  }
  for (const key of values.keys()) {
    if (!(KNOWN_KEYS as readonly string[]).includes(key)) {
      errors.push({ field: key, detail: `Query param ${goQuote(key)} is not a valid query param` });
    }
  }
  return { filters, errors };
}
