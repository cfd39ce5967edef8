import type { EntityManager } from '@mikro-orm/postgresql';
import { ApiError, type Validation } from '../errors';
import { listTasks, listTasksPage, type ListTasksOptions, type TaskRecord } from '../../db/tasks';
import { parseUuid } from '../../domain/ids';

// The list of GET /tasks and of its watch stream. Beyond Coder: limit / offset / after_id page
// through the list; without them the whole list comes back and count is its length, exactly as
// Coder answers.

const MAX_PAGE = 1000;

export interface Page {
  limit?: number;
  offset?: number;
  afterId?: string;
}

/** limit / offset / after_id of GET /tasks and its watch; null when none is given (the whole list). */
export function parsePage(query: { limit?: string; offset?: string; after_id?: string }): Page | null {
  const errors: Validation[] = [];
  const page: Page = {};
  const int = (field: string, raw: string, min: number, max: number): number | undefined => {
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    errors.push({ field, detail: `Query param "${field}" must be an integer between ${min} and ${max}` });
    return undefined;
  };
  // an empty value (`limit=`) means the parameter was not given, as Coder's query parser reads it
  if (query.limit) page.limit = int('limit', query.limit, 1, MAX_PAGE);
  if (query.offset) page.offset = int('offset', query.offset, 0, Number.MAX_SAFE_INTEGER);
  if (query.after_id) {
    const id = parseUuid(query.after_id);
    if (id) page.afterId = id;
    else errors.push({ field: 'after_id', detail: 'Query param "after_id" must be a valid uuid' });
  }
  if (errors.length > 0) throw new ApiError(400, 'Query parameters have invalid values.', undefined, errors);
  return Object.keys(page).length > 0 ? page : null;
}

/** The list, or a page of it with the count of all matching tasks (one statement either way). */
export async function readTaskList(
  em: EntityManager,
  filters: Omit<ListTasksOptions, keyof Page>,
  page: Page | null,
): Promise<{ records: TaskRecord[]; total: number }> {
  if (page) return listTasksPage(em, { ...filters, ...page });
  const records = await listTasks(em, filters);
  return { records, total: records.length };
}
