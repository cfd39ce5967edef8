import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../context';
import { ApiError } from '../errors';
import { listScope, type ListScope } from '../../db/scope';
import { taskJson } from '../dto/task';
import { orInternal } from '../tasks/internal';
import type { TaskSearch } from '../tasks/search';
import { readTaskList, type Page } from '../tasks/task-list';
import type { TaskChange, TaskEvents, TaskInterest } from './task-events';
import { streamWatch } from './sse-session';

// GET /tasks/watch?q=…[&limit=…&offset=…|after_id=…]: the list GET /tasks would answer, as
// Server-Sent Events (with a page, the page and the total count, as GET /tasks pages).
//   event: tasks    {tasks, count}, on connect and whenever the list's JSON changes
//   event: problem  a Coder error body; 4xx ends the stream
// The subscription follows the caller's visibility (own tasks plus administered organizations, or
// everything for a site owner) narrowed by the owner/organization filters of q; a status filter
// cannot narrow it, since a change of status is exactly what moves a task in or out of the list.
// Conversation-only changes never alter a Task object, so they do not trigger a re-read.

function interestFor(scope: ListScope, search: TaskSearch): TaskInterest {
  if (search.ownerId !== undefined) return { ownerIds: [search.ownerId], organizationIds: [] };
  if (scope.isSiteOwner) return search.organizationId ? { ownerIds: [], organizationIds: [search.organizationId] } : { all: true };
  return { ownerIds: [scope.userId], organizationIds: scope.adminOrgIds };
}

function relevantTo(search: TaskSearch) {
  return (change: TaskChange): boolean =>
    [...change.kinds].some((k) => k !== 'log') &&
    (search.ownerId === undefined || change.ownerId === search.ownerId) &&
    (search.organizationId === undefined || change.organizationId === search.organizationId);
}

export async function watchTaskList(
  c: Context<AppEnv>,
  deps: AppDeps,
  events: TaskEvents,
  search: TaskSearch,
  page: Page | null = null,
): Promise<Response> {
  const scope = await listScope(c.get('em'), c.get('actor'));
  let lastJson = '';
  return streamWatch(c, deps, events, {
    interest: interestFor(scope, search),
    relevant: relevantTo(search),
    async refresh(session) {
      const em = c.get('em');
      // re-derived each time: a revoked admin role stops showing that organization's tasks
      const current = await listScope(em, c.get('actor'));
      const filters = { scope: current, ...search };
      const { records, total } = await orInternal('Internal error fetching tasks.', () => readTaskList(em, filters, page));
      // as GET /tasks: a task without a workspace fails the whole list (spec §3.2)
      if (records.some((t) => t.workspaceId === null)) {
        throw new ApiError(500, 'Internal error converting tasks.', 'task has no workspace ID');
      }
      const json = JSON.stringify({ tasks: records.map(taskJson), count: total });
      if (json === lastJson) return;
      lastJson = json;
      await session.send('tasks', JSON.parse(json));
    },
  });
}
