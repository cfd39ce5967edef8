import { createRoute } from '@hono/zod-openapi';
import { ApiError } from '../../errors';
import { requireUser } from '../../middleware/auth';
import { listScope } from '../../../db/scope';
import type { ApiApp, AppDeps } from '../../context';
import { SESSION_SECURITY, errorResponses, jsonContent } from '../../dto/common';
import { taskJson, tasksListSchema } from '../../dto/task';
import { orInternal } from '../../tasks/internal';
import { resolveTaskSearch } from '../../tasks/search';
import { listTasksQuery } from '../../tasks/schemas';
import { parsePage, readTaskList } from '../../tasks/task-list';

// GET /tasks (spec §3.2), paged as api/tasks/task-list.ts says.

export function registerListTasksRoute(api: ApiApp, _deps: AppDeps): void {
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
      const em = c.get('em');
      const search = await resolveTaskSearch(em, c.get('actor'), query.q ?? '');
      const filters = { scope: await listScope(em, c.get('actor')), ...search };
      const { records, total } = await orInternal('Internal error fetching tasks.', () => readTaskList(em, filters, page));
      // Coder fails the whole list when one task lacks its workspace (spec §3.2); kept for parity.
      if (records.some((t) => t.workspaceId === null)) {
        throw new ApiError(500, 'Internal error converting tasks.', 'task has no workspace ID');
      }
      return c.json({ tasks: records.map(taskJson), count: total }, 200);
    },
  );
}
