// The cast the fuzzer attacks: a site owner, two plain members (alice, the attacker, and bob, whose
// records must never reach her), active echo tasks with their real agent tokens, and an expired
// API key. Everything bob owns is collected as "secrets" for the leak check.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TestStack } from '../helpers/stack';
import { createAiTemplate, createUserWithToken, setupOwner, type UserJson } from '../helpers/fixtures';
import { sql } from '../helpers/task-rows';
import { waitFor } from '../helpers/wait';
import { deriveAgentToken } from '../../lib/agent-token';

export interface FuzzTask {
  id: string;
  name: string;
  workspaceId: string;
  prompt: string;
  buildIds: string[];
  agentId: string;
  agentToken: string;
}

export interface FuzzPerson {
  token: string;
  user: UserJson;
  tasks: FuzzTask[];
}

export interface FuzzWorld {
  ownerToken: string;
  orgId: string;
  templateId: string;
  templateName: string;
  versionId: string;
  versionName: string;
  alice: FuzzPerson;
  bob: FuzzPerson;
  /** alice's API key, expired in the database */
  expiredToken: string;
  /** bob's identifiers and content: none may ever appear in an answer to anyone else */
  secrets: string[];
}

const hex = (n: number) => randomBytes(n).toString('hex');

async function createActiveTask(stack: TestStack, token: string, versionId: string, name: string, prompt: string): Promise<FuzzTask> {
  const res = await stack.api('POST', '/api/v2/tasks/me', { token, body: { template_version_id: versionId, input: prompt, name } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const id: string = res.body.id;
  await waitFor(async () => (await stack.api('GET', `/api/v2/tasks/me/${id}`, { token })).body.status === 'active', {
    what: `task ${name} active`,
    timeoutMs: 30_000,
  });
  const builds = await sql<{ id: string }>(
    stack,
    'select b.id from workspace_builds b join tasks t on t.workspace_id = b.workspace_id where t.id = ? order by b.build_number',
    [id],
  );
  const [agent] = await sql<{ id: string }>(
    stack,
    `select a.id from workspace_agents a join workspace_builds b on b.id = a.build_id join tasks t on t.workspace_id = b.workspace_id
      where t.id = ? order by b.build_number desc limit 1`,
    [id],
  );
  assert.ok(agent, `task ${name} has an agent`);
  const agentToken = await deriveAgentToken(stack.orm.em.fork() as EntityManager, agent.id);
  return { id, name, workspaceId: res.body.workspace_id, prompt, buildIds: builds.map((b) => b.id), agentId: agent.id, agentToken };
}

export async function buildFuzzWorld(stack: TestStack): Promise<FuzzWorld> {
  const owner = await setupOwner(stack);
  const [alice, bob] = await Promise.all([
    createUserWithToken(stack, owner.token, { username: 'alice' }),
    createUserWithToken(stack, owner.token, { username: 'bob' }),
  ]);
  const { template, version } = await createAiTemplate(stack, owner.token, owner.org.id);
  const [aliceTasks, bobTasks] = await Promise.all([
    Promise.all([
      createActiveTask(stack, alice.token, version.id, 'alice-one', 'alice first prompt'),
      createActiveTask(stack, alice.token, version.id, 'alice-two', 'alice second prompt'),
    ]),
    Promise.all([
      createActiveTask(stack, bob.token, version.id, `bobsecret-${hex(4)}`, `bob private prompt ${hex(8)}`),
      createActiveTask(stack, bob.token, version.id, `bobhidden-${hex(4)}`, `bob other prompt ${hex(8)}`),
    ]),
  ]);

  const key = await stack.api('POST', `/api/v2/users/${alice.user.id}/keys`, { token: alice.token });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  const expiredToken: string = key.body.key;
  await sql(stack, `update api_keys set expires_at = now() - interval '1 day' where id = ?`, [expiredToken.split('-')[0]]);
  const check = await stack.api('GET', '/api/v2/users/me', { token: expiredToken });
  assert.equal(check.status, 401, 'the expired key is refused');

  const secrets = bobTasks.flatMap((t) => [t.id, t.name, t.workspaceId, t.prompt, t.agentId, t.agentToken, ...t.buildIds]);
  secrets.push(bob.token);
  return {
    ownerToken: owner.token,
    orgId: owner.org.id,
    templateId: template.id,
    templateName: template.name,
    versionId: version.id,
    versionName: version.name,
    alice: { token: alice.token, user: alice.user, tasks: aliceTasks },
    bob: { token: bob.token, user: bob.user, tasks: bobTasks },
    expiredToken,
    secrets,
  };
}
