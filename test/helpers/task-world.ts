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
