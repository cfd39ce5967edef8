import type { Context } from 'hono';
import type { Actor, AppEnv } from '../context';
import { ApiError, notFound } from '../errors';
import { canReadOwnerResources, readableUser } from '../../db/authz';
import { getTaskById, getTaskByOwnerAndName, type TaskRecord } from '../../db/tasks';
import { parseUuid } from '../../domain/ids';
import { orInternal } from './internal';
import type { IUser } from '../../db/entities';

// Path parameters of /tasks/{user}/{task} (spec §3.1). Lookups run without scope and the caller's
// right to see the row is checked afterwards, because the rule is "a UUID that names a task the
// caller may not see is 404" — not "fall through to a name lookup".

export function actorOf(c: Context<AppEnv>): Actor {
  return c.get('actor');
}

/** `{user}`: "me", a user id or a username the caller may see; anything else is 404. */
export async function resolveUserParam(c: Context<AppEnv>, ref: string): Promise<IUser> {
  const user = await readableUser(c.get('em'), actorOf(c), ref);
  if (!user) throw notFound();
  return user;
}

async function visible(c: Context<AppEnv>, task: TaskRecord | null): Promise<TaskRecord | null> {
  if (!task) return null;
  return (await canReadOwnerResources(c.get('em'), actorOf(c), task.ownerId, task.organizationId)) ? task : null;
}

/**
 * `{task}` for the owner `{user}` resolved to: a UUID is looked up by id alone (admins reach
 * others' tasks as /tasks/me/<id>); only when no task has that id is it tried as a name.
 */
export async function resolveTaskParam(c: Context<AppEnv>, ownerId: string, ref: string): Promise<TaskRecord> {
  if (ref === '') throw new ApiError(400, '"task" must be provided.');
  return orInternal('Internal error fetching task.', () => lookUpTask(c, ownerId, ref));
}

async function lookUpTask(c: Context<AppEnv>, ownerId: string, ref: string): Promise<TaskRecord> {
  const em = c.get('em');
  const id = parseUuid(ref);
  if (id) {
    const byId = await getTaskById(em, id);
    if (byId) {
      const task = await visible(c, byId);
      if (!task) throw notFound();
      return task;
    }
  }
  const task = await visible(c, await getTaskByOwnerAndName(em, ownerId, ref));
  if (!task) throw notFound();
  return task;
}

/** Both path parameters at once, in the order Coder's middleware chain resolves them. */
export async function resolveTaskPath(c: Context<AppEnv>, params: { user: string; task: string }): Promise<{ task: TaskRecord }> {
  // "me" is the authenticated caller, who exists: only the id is needed, so nothing is loaded
  const ownerId = params.user === 'me' ? actorOf(c).userId : (await resolveUserParam(c, params.user)).id;
  const task = await resolveTaskParam(c, ownerId, params.task);
  return { task };
}
