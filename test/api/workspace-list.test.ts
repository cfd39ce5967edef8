// GET /workspaces with Coder's search grammar and GET /users/{user}/workspace/{name}: what Coder's
// CLI calls for `coder list`, `show`, `stop`, `start` and `delete`. Each test has a world of its own so
// counts are exact.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate } from '../helpers/fixtures';
import { activeTaskOf, taskStatusOf, taskWorld, type CreatedTask, type Person, type TaskWorld } from '../helpers/task-world';
import { waitFor } from '../helpers/wait';

let stack: TestStack;
let world: TaskWorld;

before(async () => {
  stack = await startTestStack();
  world = await taskWorld(stack);
});
after(async () => {
  await stack?.close();
});

type Task = CreatedTask;

const activeTask = (who: Person, versionId = world.version.id) => activeTaskOf(stack, who, versionId);
const taskStatus = (who: Person, taskId: string) => taskStatusOf(stack, who, taskId);

const list = (who: Person, query = '') => stack.api('GET', `/api/v2/workspaces${query}`, { token: who.token });
const search = async (who: Person, q: string): Promise<string[]> => {
  const res = await list(who, `?q=${encodeURIComponent(q)}`);
  assert.equal(res.status, 200, `${q}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.count, res.body.workspaces.length);
  return (res.body.workspaces as { id: string }[]).map((w) => w.id).sort();
};
const ids = (...tasks: Task[]) => tasks.map((t) => t.workspace_id).sort();

describe('GET /workspaces', () => {
  let a1: Task;
  let a2: Task;
  let b1: Task;
  before(async () => {
    [a1, a2, b1] = await Promise.all([activeTask(world.alice), activeTask(world.alice), activeTask(world.bob)]);
  });

  test('each caller sees what they may: members their own, an org admin everyone in the org', async () => {
    const mine = await list(world.alice);
    assert.equal(mine.status, 200);
    assert.deepEqual((mine.body.workspaces as { id: string }[]).map((w) => w.id).sort(), ids(a1, a2));
    assert.equal(mine.body.count, 2);
    const w = (mine.body.workspaces as Record<string, unknown>[]).find((x) => x.id === a1.workspace_id)!;
    assert.equal(w.name, a1.name);
    assert.equal(w.owner_name, 'alice');
    assert.equal(w.task_id, a1.id);
    assert.equal((w.latest_build as { status: string }).status, 'running');
    assert.deepEqual(await search(world.bob, ''), ids(b1));
    assert.deepEqual(await search(world.admin, ''), ids(a1, a2, b1));
    assert.deepEqual(await search(world.admin, 'owner:alice'), ids(a1, a2));
    assert.deepEqual(await search(world.admin, 'owner:ALICE'), ids(a1, a2));
    assert.deepEqual(await search(world.admin, 'owner:me'), []);
    assert.deepEqual(await search(world.alice, 'owner:me'), ids(a1, a2));
    assert.deepEqual(await search(world.alice, 'owner:bob'), [], "bob's workspaces stay out of alice's sight");
    assert.deepEqual(await search(world.admin, 'owner:nobody'), []);
  });

  test('name, owner/name, template, has-ai-task and organization filters', async () => {
    assert.deepEqual(await search(world.admin, a1.name), ids(a1));
    assert.deepEqual(await search(world.admin, `name:${a1.name.slice(1, -1)}`), ids(a1));
    assert.deepEqual(await search(world.admin, `alice/${a1.name}`), ids(a1));
    assert.deepEqual(await search(world.admin, `bob/${a1.name}`), []);
    assert.deepEqual(await search(world.admin, `template:${world.template.name}`), ids(a1, a2, b1));
    assert.deepEqual(await search(world.admin, 'template:no-such-template'), []);
    assert.deepEqual(await search(world.admin, 'has-ai-task:true'), ids(a1, a2, b1));
    assert.deepEqual(await search(world.admin, 'has-ai-task:false'), []);
    assert.deepEqual(await search(world.admin, `organization:${world.org.name}`), ids(a1, a2, b1));
    assert.deepEqual(await search(world.admin, `id:${a2.workspace_id}`), ids(a2));
    assert.deepEqual(await search(world.admin, 'outdated:true'), []);
    // a name search takes % and _ literally
    assert.deepEqual(await search(world.admin, 'name:%'), []);
  });

  test('status follows the latest build: stopped after a pause, running again after the resume', async () => {
    assert.deepEqual(await search(world.alice, 'status:running'), ids(a1, a2));
    assert.equal((await stack.api('POST', `/api/v2/tasks/me/${a2.id}/pause`, { token: world.alice.token })).status, 202);
    await waitFor(async () => (await taskStatus(world.alice, a2.id)) === 'paused', { what: 'paused' });
    assert.deepEqual(await search(world.alice, 'status:stopped'), ids(a2));
    assert.deepEqual(await search(world.alice, 'status:running'), ids(a1));
    // running workspaces come first
    const all = await list(world.alice);
    assert.deepEqual((all.body.workspaces as { id: string }[]).map((w) => w.id), [a1.workspace_id, a2.workspace_id]);
    assert.equal((await stack.api('POST', `/api/v2/tasks/me/${a2.id}/resume`, { token: world.alice.token })).status, 202);
    await waitFor(async () => (await search(world.alice, 'status:running')).length === 2, { what: 'running again' });
  });

  test('limit and offset page through; the count is of every match', async () => {
    const first = await list(world.admin, '?limit=2');
    assert.equal(first.status, 200);
    assert.equal(first.body.workspaces.length, 2);
    assert.equal(first.body.count, 3);
    const rest = await list(world.admin, '?limit=2&offset=2');
    assert.equal(rest.body.workspaces.length, 1);
    assert.equal(rest.body.count, 3);
    const seen = [...first.body.workspaces, ...rest.body.workspaces].map((w: { id: string }) => w.id).sort();
    assert.deepEqual(seen, ids(a1, a2, b1));
    const past = await list(world.admin, '?offset=10');
    assert.deepEqual(past.body, { workspaces: [], count: 3 });
    assert.equal((await list(world.admin, '?limit=&offset=')).body.count, 3);
  });

  test('a malformed query is 400 with what is wrong, in Coder words', async () => {
    const cases: [string, string, string, RegExp][] = [
      ['?q=status:bogus', 'Invalid workspace search query.', 'status', /"bogus" is not a valid value/],
      ['?q=colour:blue', 'Invalid workspace search query.', 'colour', /"colour" is not a valid query param/],
      ['?q=a/b/c', 'Invalid workspace search query.', 'q', /can only contain 1 '\/'/],
      ['?q=a:b:c', 'Invalid workspace search query.', 'q', /can only contain 1 ':'/],
      ['?q=has-ai-task:maybe', 'Invalid workspace search query.', 'has-ai-task', /must be a valid boolean/],
      ['?q=owner:a%20owner:b', 'Invalid workspace search query.', 'owner', /provided more than once/],
      ['?q=organization:no-such-org', 'Invalid workspace search query.', 'organization', /either does not exist/],
      ['?q=id:not-a-uuid', 'Invalid workspace search query.', 'id', /must be a valid uuid/],
      ['?limit=-1', 'Query parameters have invalid values.', 'limit', /value is negative/],
      ['?offset=x', 'Query parameters have invalid values.', 'offset', /invalid syntax/],
    ];
    for (const [query, message, field, detail] of cases) {
      const res = await list(world.alice, query);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.message, message, query);
      const v = (res.body.validations as { field: string; detail: string }[]).find((x) => x.field === field);
      assert.ok(v && detail.test(v.detail), `${query}: ${JSON.stringify(res.body)}`);
    }
  });
});

describe('GET /users/{user}/workspace/{workspacename}', () => {
  test('by name for its owner and org admin, 404 for anyone else; include_deleted finds a deleted one', async () => {
    const task = await activeTask(world.alice);
    const byName = (who: Person, user: string, name: string, query = '') =>
      stack.api('GET', `/api/v2/users/${user}/workspace/${encodeURIComponent(name)}${query}`, { token: who.token });
    const own = await byName(world.alice, 'me', task.name);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal(own.body.id, task.workspace_id);
    assert.equal(own.body.task_id, task.id);
    assert.equal((await byName(world.alice, 'alice', task.name.toUpperCase())).body.id, task.workspace_id);
    assert.equal((await byName(world.admin, 'alice', task.name)).body.id, task.workspace_id);
    assert.equal((await byName(world.admin, world.alice.user.id, task.name)).body.id, task.workspace_id);
    assert.equal((await byName(world.bob, 'alice', task.name)).status, 404);
    assert.equal((await byName(world.bob, 'me', task.name)).status, 404);
    assert.equal((await byName(world.alice, 'me', 'no-such-workspace')).status, 404);
    const bad = await byName(world.alice, 'me', task.name, '?include_deleted=maybe');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.message, 'Invalid boolean value "maybe" for "include_deleted" query param.');

    const del = await stack.api('POST', `/api/v2/workspaces/${task.workspace_id}/builds`, { token: world.alice.token, body: { transition: 'delete' } });
    assert.equal(del.status, 201, JSON.stringify(del.body));
    await waitFor(async () => (await byName(world.alice, 'me', task.name)).status === 404, { what: 'workspace gone by name' });
    const kept = await byName(world.alice, 'me', task.name, '?include_deleted=true');
    assert.equal(kept.status, 200);
    assert.equal(kept.body.id, task.workspace_id);
    assert.equal(kept.body.latest_build.status, 'deleted');
    assert.deepEqual(await search(world.alice, `deleted:true name:${task.name}`), ids(task));
    assert.deepEqual(await search(world.alice, `name:${task.name}`), []);
  });
});

describe('GET /workspaceagents/{id}/listening-ports and /containers', () => {
  test("the agent's app ports while it runs, none once stopped; no containers; 404 for others", async () => {
    // an app that names its URL: the echo provisioner reports it as is
    const { version } = await createAiTemplate(stack, world.owner.token, world.org.id, {
      name: 'with-port',
      workspace: { apps: [{ slug: 'ai-agent', display_name: 'AI Agent', url: 'http://127.0.0.1:3284/' }] },
    });
    const task = await activeTask(world.alice, version.id);
    const ws = (await stack.api('GET', `/api/v2/workspaces/${task.workspace_id}`, { token: world.alice.token })).body;
    const agent = ws.latest_build.resources[0].agents[0];
    const appPort = 3284;
    const ports = (who: Person) => stack.api('GET', `/api/v2/workspaceagents/${agent.id}/listening-ports`, { token: who.token });
    const running = await ports(world.alice);
    assert.equal(running.status, 200, JSON.stringify(running.body));
    assert.deepEqual(running.body.ports, [{ process_name: agent.apps[0].slug, network: 'tcp', port: appPort }]);
    assert.equal((await ports(world.admin)).status, 200);
    assert.equal((await ports(world.bob)).status, 404);
    const containers = await stack.api('GET', `/api/v2/workspaceagents/${agent.id}/containers?label=x%3Dy`, { token: world.alice.token });
    assert.deepEqual(containers.body, { devcontainers: [], containers: [] });
    assert.equal((await stack.api('GET', `/api/v2/workspaceagents/${agent.id}/containers`, { token: world.bob.token })).status, 404);
    assert.equal((await stack.api('GET', '/api/v2/workspaceagents/not-a-uuid/listening-ports', { token: world.alice.token })).status, 400);

    assert.equal((await stack.api('POST', `/api/v2/tasks/me/${task.id}/pause`, { token: world.alice.token })).status, 202);
    await waitFor(async () => (await taskStatus(world.alice, task.id)) === 'paused', { what: 'paused' });
    assert.deepEqual((await ports(world.alice)).body.ports, []);
  });
});
