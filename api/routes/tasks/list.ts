import { createRoute } from '@hono/zod-openapi';
import type { ApiApp } from '../../app';
import { ApiError, type Validation } from '../../errors';
import { requireUser } from '../../middleware/auth';
import { visibleTaskScope } from '../../../db/authz';
import { SESSION_SECURITY, errorResponses, jsonContent } from '../../dto/common';
import { taskJson, tasksListSchema } from '../../dto/task';
import { actorOf } from '../../tasks/params';
import { orInternal } from '../../tasks/internal';
import { resolveTaskSearch } from '../../tasks/search';
import { listTasksQuery } from '../../tasks/schemas';
import { listTasks, listTasksPage, type ListTasksOptions, type TaskRecord } from '../../../db/tasks';
import type { EntityManager } from '@mikro-orm/postgresql';
import { parseUuid } from '../../../domain/ids';

// GET /tasks (spec §3.2). Beyond Coder: limit / offset / after_id page through the list; without
// them the whole list comes back and count is its length, exactly as Coder answers.

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
  if (query.limit !== undefined) page.limit = int('limit', query.limit, 1, MAX_PAGE);
  if (query.offset !== undefined) page.offset = int('offset', query.offset, 0, Number.MAX_SAFE_INTEGER);
  if (query.after_id !== undefined) {
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

export function registerListTasksRoute(api: ApiApp): void {
  api.openapi(
    createRoute({
      method: 'get',
      path: '/tasks',
      tags: ['Tasks'],
      summary: 'List the tasks the caller can see, newest first',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { query: listTasksQuery },
      responses: { 200: jsonContent(tasksListSchema, 'Tasks'), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const page = parsePage(query);
      const search = await resolveTaskSearch(c, query.q ?? '');
      const em = c.get('em');
      const filters = { scope: await visibleTaskScope(em, actorOf(c)), ...search };
      const { records, total } = await orInternal('Internal error fetching tasks.', () => readTaskList(em, filters, page));
      // Coder fails the whole list when one task lacks its workspace (spec §3.2); kept for parity.
      if (records.some((t) => t.workspaceId === null)) {
        throw new ApiError(500, 'Internal error converting tasks.', 'task has no workspace ID');
      }
      return c.json({ tasks: records.map(taskJson), count: total }, 200);
    },
  );
}
