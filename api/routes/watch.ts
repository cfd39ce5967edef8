import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../context';
import { requireUser } from '../middleware/auth';
import { SESSION_SECURITY, errorResponses } from '../dto/common';
import { resolveTaskPath } from '../tasks/params';
import { resolveTaskSearch } from '../tasks/search';
import { listTasksQuery, taskParams } from '../tasks/schemas';
import { requireEvents } from '../watch/sse-session';
import { watchTask } from '../watch/task-watch';
import { watchTaskList } from '../watch/list-watch';
import { parsePage } from '../tasks/task-list';

// Beyond Coder: live task updates as Server-Sent Events (api/watch/). Authorization is exactly that
// of the matching read endpoints, checked before the stream opens, so refusals are ordinary JSON
// errors (404 for what the caller may not see).

// Each Server-Sent Event as a fuzzer or client reads it: its name and its data line (JSON text).
const sseEvent = (names: string[]) =>
  z.object({
    event: z.enum(names as [string, ...string[]]),
    data: z.string().openapi({ description: 'JSON text: a Task, {logs}, {tasks, count}, {id} or a Coder error body' }),
    id: z.string().optional(),
    retry: z.number().int().optional(),
  });

const eventStream = (description: string, names: string[]) => ({
  description,
  content: { 'text/event-stream': { schema: sseEvent(names) } },
});

export function registerWatchRoutes(api: ApiApp, deps: AppDeps): void {
  api.openapi(
    createRoute({
      method: 'get',
      path: '/tasks/watch',
      tags: ['Tasks'],
      summary: 'Stream the task list (same q and visibility as GET /tasks): event "tasks" on connect and on change',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { query: listTasksQuery },
      responses: { 200: eventStream('Server-Sent Events: tasks, problem', ['tasks', 'problem']), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const events = requireEvents(deps);
      const query = c.req.valid('query');
      const page = parsePage(query);
      const search = await resolveTaskSearch(c.get('em'), c.get('actor'), query.q ?? '');
      return watchTaskList(c, deps, events, search, page);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/tasks/{user}/{task}/watch',
      tags: ['Tasks'],
      summary: 'Stream one task: events "task" (on connect and on change), "logs" (new entries), "deleted"',
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: taskParams },
      responses: { 200: eventStream('Server-Sent Events: task, logs, deleted, problem', ['task', 'logs', 'deleted', 'problem']), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const events = requireEvents(deps);
      const task = await resolveTaskPath(c.get('em'), c.get('actor'), c.req.valid('param'));
      return watchTask(c, deps, events, task);
    },
  );
}
