import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../context';
import { ApiError, notFound } from '../errors';
import { readableUser } from '../../db/users';
import { findTaskById, getTaskByOwnerAndName, type TaskRecord } from '../../db/tasks';
import { parseUuid } from '../../domain/ids';
import { orInternal } from './internal';
import type { IUser } from '../../db/entities';

// Path parameters of /tasks/{user}/{task} (spec §3.1). A UUID names a task by id alone (admins reach
// others' tasks as /tasks/me/<id>); only when no task has that id is it tried as a name. A task the
// caller may not see is 404 — not "fall through to a name lookup".

/** `{user}`: "me", a user id or a username the caller may see; anything else is 404. */
export async function resolveUserParam(em: EntityManager, actor: Actor, ref: string): Promise<IUser> {
  const user = await readableUser(em, actor, ref);
  if (!user) throw notFound();
  return user;
}

/** The id `{user}` names; "me" is the authenticated caller, who exists, so nothing is loaded for it. */
export async function resolveOwnerId(em: EntityManager, actor: Actor, ref: string): Promise<string> {
  return ref === 'me' ? actor.userId : (await resolveUserParam(em, actor, ref)).id;
}

/** `{task}` of the owner `{user}` resolved to, as the caller may see it. */
export async function resolveTaskParam(em: EntityManager, actor: Actor, ownerId: string, ref: string): Promise<TaskRecord> {
  if (ref === '') throw new ApiError(400, '"task" must be provided.');
  const task = await orInternal('Internal error fetching task.', async () => {
    const id = parseUuid(ref);
    const byId = id ? await findTaskById(em, actor, id) : null;
    if (byId === 'hidden') return null;
    return byId ?? getTaskByOwnerAndName(em, actor, ownerId, ref);
  });
  if (!task) throw notFound();
  return task;
}

/** Both path parameters at once, in the order Coder's middleware chain resolves them. */
export async function resolveTaskPath(em: EntityManager, actor: Actor, params: { user: string; task: string }): Promise<TaskRecord> {
  return resolveTaskParam(em, actor, await resolveOwnerId(em, actor, params.user), params.task);
}
