import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '../context';
import { ApiError, notFound } from '../errors';
import { orgRoleOf } from '../../db/scope';
import { isMember } from '../../db/organizations';
import { presetOfVersion, readableTemplateVersion } from '../../db/templates';
import { orInternal } from './internal';
import type { Logger } from '../../lib/logger';
import { NIL_UUID, parseUuid } from '../../domain/ids';
import { normalizeDisplayName, validateDisplayName, validateTaskName, generateTaskName, type TaskName } from '../../domain/task-name';
import { generateTaskNameWithLlm, type FetchLike } from '../../domain/task-name-llm';
import type { ITemplateVersion, IUser } from '../../db/entities';
import type { Config } from '../../lib/config';

// The checks of POST /tasks/{user} (spec §3.3 steps 3-8), in Coder's order, each with its message.

const NAMING_TIMEOUT_MS = 10_000;

/** Go fails to decode a malformed UUID before the handler runs; the client sees a JSON error. */
export function uuidField(field: string, value: string): string | null {
  if (value === '') return null;
  const id = parseUuid(value);
  if (!id) throw new ApiError(400, 'Request body must be valid JSON.', `invalid UUID in "${field}": ${JSON.stringify(value)}`);
  return id === NIL_UUID ? null : id;
}

export interface TemplateForTask {
  version: ITemplateVersion;
  templateId: string;
  templateName: string;
}

/** Step 3-4: a readable template version with an AI task. Unreadable is 400, deliberately. */
export async function templateVersionForTask(em: EntityManager, actor: Actor, id: string | null): Promise<TemplateForTask> {
  const found = await orInternal('Internal error fetching template version.', async () => {
    const readable = id ? await readableTemplateVersion(em, actor, id) : null;
    return readable ? { version: readable.version, templateId: readable.template.id, templateName: readable.template.name } : null;
  });
  if (!found) throw new ApiError(400, 'Template version not found or you do not have access to this resource');
  if (!found.version.hasAiTask) throw new ApiError(400, 'Template does not have a valid "coder_ai_task" resource.');
  return found;
}

/** Steps 5-7: the name is validated untrimmed, the display name trimmed; missing ones are generated. */
export async function taskNames(
  log: Logger,
  config: Config,
  body: { name: string; display_name: string; input: string },
): Promise<TaskName> {
  if (body.name !== '') {
    const problem = validateTaskName(body.name);
    if (problem) throw new ApiError(400, 'Unable to create a Task with the provided name.', problem);
  }
  const displayProblem = validateDisplayName(body.display_name);
  if (displayProblem) throw new ApiError(400, displayProblem);
  const displayName = normalizeDisplayName(body.display_name);
  if (body.name !== '' && displayName !== '') return { name: body.name, displayName };
  const generated = config.llm.apiKey
    ? await generateTaskNameWithLlm(body.input, {
        apiKey: config.llm.apiKey,
        model: config.llm.model,
        fetch: globalThis.fetch as FetchLike,
        signal: AbortSignal.timeout(NAMING_TIMEOUT_MS),
        onError: (err) => log.warn({ err }, 'task naming model failed; using the prompt'),
      })
    : generateTaskName(body.input, Math.random);
  return { name: body.name || generated.name, displayName: displayName || generated.displayName };
}

/**
 * Step 8 and the workspace-create permission: the owner must belong to the template version's
 * organization, and only the owner, an admin of that organization or a site owner may create
 * there on the owner's behalf.
 */
export async function checkOwner(em: EntityManager, actor: Actor, owner: IUser, organizationId: string): Promise<void> {
  if (!(await isMember(em, organizationId, owner.id))) throw notFound();
  if (owner.id === actor.userId) return;
  if ((await orgRoleOf(em, actor, organizationId)) !== 'admin') {
    throw new ApiError(403, 'Forbidden.', 'Only the owner, an organization admin or a site owner can create this task.');
  }
}

/** A preset of the version, or null; the nil UUID and an absent field both mean "no preset". */
export async function presetForTask(em: EntityManager, id: string | null, versionId: string): Promise<string | null> {
  if (!id) return null;
  if (!(await presetOfVersion(em, id, versionId))) {
    throw new ApiError(400, 'Invalid template version preset.', `Preset "${id}" does not belong to template version "${versionId}".`, [
      { field: 'template_version_preset_id', detail: 'The preset does not exist for this template version.' },
    ]);
  }
  return id;
}
