// The cast most task API tests need: a site owner, two members and an organization admin of the
// default organization, and an AI template (echo provisioner) to create tasks from.
import type { TestStack } from './stack';
import {
  createAiTemplate,
  createUserWithToken,
  setupOwner,
  type OrganizationJson,
  type TemplateJson,
  type TemplateVersionJson,
  type UserJson,
} from './fixtures';
import { insertTask, type TaskRows, type TaskRowsOptions } from './task-rows';
import { waitFor } from './wait';

export interface Person {
  token: string;
  user: UserJson;
}

export interface TaskWorld {
  owner: Person;
  alice: Person;
  bob: Person;
  admin: Person;
  org: OrganizationJson;
  template: TemplateJson;
  version: TemplateVersionJson;
}

export async function taskWorld(stack: TestStack, templateWorkspace?: Record<string, unknown>): Promise<TaskWorld> {
  const owner = await setupOwner(stack);
  const [alice, bob, admin] = await Promise.all([
    createUserWithToken(stack, owner.token, { username: 'alice' }),
    createUserWithToken(stack, owner.token, { username: 'bob' }),
    createUserWithToken(stack, owner.token, { username: 'ada', orgRoles: ['organization-admin'] }),
  ]);
  const { template, version } = await createAiTemplate(stack, owner.token, owner.org.id, {
    ...(templateWorkspace ? { workspace: templateWorkspace } : {}),
  });
  return { owner, alice, bob, admin, org: owner.org, template, version };
}

/** A task of `who` written straight into the database (see task-rows.ts). */
export function seedTaskOf(
  stack: TestStack,
  world: TaskWorld,
  who: Person,
  over: Partial<TaskRowsOptions> = {},
): Promise<TaskRows> {
  return insertTask(stack, {
    ownerId: who.user.id,
    orgId: world.org.id,
    templateId: world.template.id,
    versionId: world.version.id,
    ...over,
  });
}

export interface CreatedTask {
  id: string;
  name: string;
  workspace_id: string;
}

/** The status GET /tasks/me/{id} reports to `who`. */
export async function taskStatusOf(stack: TestStack, who: Person, taskId: string): Promise<string | undefined> {
  return (await stack.api('GET', `/api/v2/tasks/me/${taskId}`, { token: who.token })).body.status;
}

/** A task of `who` from `versionId`, created through the API and waited on until it is active. */
export async function activeTaskOf(stack: TestStack, who: Person, versionId: string): Promise<CreatedTask> {
  const res = await stack.api('POST', '/api/v2/tasks/me', { token: who.token, body: { template_version_id: versionId, input: 'work' } });
  if (res.status !== 201) throw new Error(`POST /tasks/me: ${res.status} ${JSON.stringify(res.body)}`);
  await waitFor(async () => (await taskStatusOf(stack, who, res.body.id)) === 'active', { what: 'task active' });
  return res.body as CreatedTask;
}
