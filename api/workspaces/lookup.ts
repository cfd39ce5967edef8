import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../context';
import { ApiError, notFound } from '../errors';
import { orInternal } from '../tasks/internal';
import { getBuild, getWorkspace, type BuildRecord, type WorkspaceRecord } from '../../db/workspaces';
import { parseUuid } from '../../domain/ids';

// The `{workspace}` and `{workspacebuild}` path parameters, resolved as Coder's middleware does:
// a malformed id is 400, and what the caller may not see (anyone's but their own, unless they
// administer its organization) is 404.

export function uuidParam(value: string): string {
  const id = parseUuid(value);
  if (!id) throw new ApiError(400, `Invalid UUID "${value}".`);
  return id;
}

/** The workspace if the caller may see it, deleted or not (callers decide what to show). */
export async function visibleWorkspace(em: EntityManager, actor: Actor, ref: string): Promise<WorkspaceRecord> {
  const id = uuidParam(ref);
  const workspace = await orInternal('Internal error fetching workspace.', () => getWorkspace(em, actor, id));
  if (!workspace) throw notFound();
  return workspace;
}

/** The build if the caller may see its workspace. */
export async function visibleBuild(em: EntityManager, actor: Actor, ref: string): Promise<BuildRecord> {
  const id = uuidParam(ref);
  const build = await orInternal('Internal error fetching workspace build.', () => getBuild(em, actor, id));
  if (!build) throw notFound();
  return build;
}
