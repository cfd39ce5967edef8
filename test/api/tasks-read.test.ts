// Spec §3.1 (path parameters), §3.2 (list), §3.4 (get) and §5 (search grammar), over HTTP against
// tasks written straight into the database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate, createUserWithToken } from '../helpers/fixtures';
import { taskWorld, seedTaskOf, type Person, type TaskWorld } from '../helpers/task-world';
import { addBuild, sql, type TaskRows } from '../helpers/task-rows';

const NOT_FOUND = { message: 'Resource not found or you do not have access to this resource' };

let stack: TestStack;
let world: TaskWorld;
let zed: Person; // in no organization: shares nothing with anyone
let acme: { id: string; name: string };
// alice: a1 (oldest, active), a2 (paused), a3 (newest, pending, in acme); bob: b1 (active)
let a1: TaskRows, a2: TaskRows, a3: TaskRows, b1: TaskRows;

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
const active = { transition: 'start', jobStatus: 'succeeded', agent: 'ready', app: { health: 'healthy' } } as const;

before(async () => {
  stack = await startTestStack({ worker: false });
  world = await taskWorld(stack);
  zed = await createUserWithToken(stack, world.owner.token, { username: 'zed', organizationIds: [] });
  const org = await stack.api('POST', '/api/v2/organizations', { token: world.owner.token, body: { name: 'acme' } });
  assert.equal(org.status, 201, JSON.stringify(org.body));
  acme = org.body;
  const join = await stack.api('POST', `/api/v2/organizations/acme/members/alice`, { token: world.owner.token });
  assert.equal(join.status, 200, JSON.stringify(join.body));
  const acmeTemplate = await createAiTemplate(stack, world.owner.token, acme.id);

  a1 = await seedTaskOf(stack, world, world.alice, { name: 'fix-login', createdAt: minutesAgo(30) });
  await addBuild(stack, a1, active);
  a2 = await seedTaskOf(stack, world, world.alice, { name: 'write-docs', createdAt: minutesAgo(20) });
  await addBuild(stack, a2, active);
  await addBuild(stack, a2, { transition: 'stop', jobStatus: 'succeeded' });
  a3 = await seedTaskOf(stack, world, world.alice, {
    name: 'acme-task',
    createdAt: minutesAgo(10),
    orgId: acme.id,
    templateId: acmeTemplate.template.id,
    versionId: acmeTemplate.version.id,
  });
  await addBuild(stack, a3, { transition: 'start', jobStatus: 'pending' });
  b1 = await seedTaskOf(stack, world, world.bob, { name: 'bobs-task', createdAt: minutesAgo(5) });
  await addBuild(stack, b1, active);
});
after(async () => {
  await stack?.close();
});

const get = (who: Person, user: string, task: string, prefix = '/api/v2') =>
  stack.api('GET', `${prefix}/tasks/${user}/${task}`, { token: who.token });

const list = (who: Person, q?: string, extra = '') =>
  stack.api('GET', `/api/v2/tasks${q === undefined ? '' : `?q=${encodeURIComponent(q)}`}${extra}`, { token: who.token });

const ids = (body: { tasks: { id: string }[] }) => body.tasks.map((t) => t.id);

describe('task path parameters (§3.1)', () => {
  test('by id, by "me", by name case-insensitively, and by username', async () => {
    assert.equal((await get(world.alice, 'me', a1.taskId)).body.id, a1.taskId);
    assert.equal((await get(world.alice, 'me', 'FIX-Login')).body.id, a1.taskId);
    assert.equal((await get(world.alice, 'alice', 'fix-login')).body.id, a1.taskId);
    assert.equal((await get(world.alice, world.alice.user.id, 'fix-login')).body.id, a1.taskId);
  });

  test('a UUID is looked up by id alone: an admin reaches another user\'s task as /tasks/me/<id>', async () => {
    for (const who of [world.admin, world.owner]) {
      const res = await get(who, 'me', a1.taskId);
      assert.equal(res.status, 200);
      assert.equal(res.body.owner_name, 'alice');
    }
    // a name is scoped to {user}: the admin has no task of that name
    assert.deepEqual((await get(world.admin, 'me', 'fix-login')).body, NOT_FOUND);
    assert.equal((await get(world.admin, 'alice', 'fix-login')).status, 200);
  });

  test('a member cannot see another member\'s task: 404, never 403', async () => {
    for (const res of [await get(world.bob, 'me', a1.taskId), await get(world.bob, 'alice', 'fix-login')]) {
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, NOT_FOUND);
    }
  });

  test('a UUID takes precedence over a task named with that UUID; an unknown UUID falls through to names', async () => {
    const namedLikeB1 = await seedTaskOf(stack, world, world.alice, { name: b1.taskId });
    await addBuild(stack, namedLikeB1, active);
    // b1 exists but alice may not see it: the id lookup wins and answers 404
    assert.equal((await get(world.alice, 'me', b1.taskId)).status, 404);
    const ghost = randomUUID();
    const namedGhost = await seedTaskOf(stack, world, world.alice, { name: ghost });
    await addBuild(stack, namedGhost, active);
    assert.equal((await get(world.alice, 'me', ghost)).body.id, namedGhost.taskId);
    await sql(stack, 'update tasks set deleted_at = now() where id in (?, ?)', [namedLikeB1.taskId, namedGhost.taskId]);
  });

  test('workspace names are not matched', async () => {
    await sql(stack, "update workspaces set name = 'renamed-ws' where id = ?", [a1.workspaceId]);
    try {
      assert.deepEqual((await get(world.alice, 'me', 'renamed-ws')).body, NOT_FOUND);
    } finally {
      await sql(stack, "update workspaces set name = 'fix-login' where id = ?", [a1.workspaceId]);
    }
  });

  test('an empty {task} is 400 "task" must be provided.', async () => {
    for (const [method, path] of [
      ['GET', '/api/v2/tasks/me/'],
      ['DELETE', '/api/v2/tasks/me/'],
      ['GET', '/api/v2/tasks/me//logs'],
      ['POST', '/api/v2/tasks/me//pause'],
    ] as const) {
      const res = await stack.api(method, path, { token: world.alice.token });
      assert.equal(res.status, 400, `${method} ${path}`);
      assert.deepEqual(res.body, { message: '"task" must be provided.' });
    }
  });

  test('an unknown or invisible {user} is 404', async () => {
    assert.equal((await get(world.alice, 'nobody', 'fix-login')).status, 404);
    assert.equal((await get(zed, 'alice', 'fix-login')).status, 404);
  });

  test('no session token is 401', async () => {
    assert.equal((await stack.api('GET', `/api/v2/tasks/me/${a1.taskId}`)).status, 401);
    assert.equal((await stack.api('GET', '/api/v2/tasks')).status, 401);
  });

  test('the same routes answer under /api/experimental', async () => {
    const res = await get(world.alice, 'me', a1.taskId, '/api/experimental');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, (await get(world.alice, 'me', a1.taskId)).body);
    const listed = await stack.api('GET', '/api/experimental/tasks', { token: world.alice.token });
    assert.deepEqual(listed.body, (await list(world.alice)).body);
  });
});

describe('OpenAPI', () => {
  test('the document describes every task and workspace route with the Coder schemas', async () => {
    const doc = await stack.api('GET', '/api/v2/openapi.json');
    assert.equal(doc.status, 200);
    const paths = doc.body.paths;
    for (const [path, methods] of Object.entries({
      '/tasks': ['get'],
      '/tasks/{user}': ['post'],
      '/tasks/{user}/{task}': ['get', 'delete'],
      '/tasks/{user}/{task}/input': ['patch'],
      '/tasks/{user}/{task}/send': ['post'],
      '/tasks/{user}/{task}/logs': ['get'],
      '/tasks/{user}/{task}/pause': ['post'],
      '/tasks/{user}/{task}/resume': ['post'],
      '/workspaces/{workspace}': ['get'],
      '/workspaces/{workspace}/builds': ['get', 'post'],
      '/workspacebuilds/{workspacebuild}': ['get'],
      '/workspaces/{workspace}/external-agent/{agent}/credentials': ['get'],
    })) {
      for (const method of methods) assert.ok(paths[path]?.[method], `${method} ${path}`);
    }
    for (const schema of ['Task', 'TasksListResponse', 'CreateTaskRequest', 'TaskLogsResponse', 'WorkspaceBuild', 'Workspace']) {
      assert.ok(doc.body.components.schemas[schema], schema);
    }
    assert.ok(doc.body.components.schemas.Task.properties.workspace_agent_health);
  });
});

describe('GET /tasks/{user}/{task} (§3.4)', () => {
  test('the Task object: Coder field names, null uuids, omitted empties', async () => {
    const body = (await get(world.alice, 'me', a1.taskId)).body;
    assert.equal(body.owner_name, 'alice');
    assert.equal('owner_avatar_url' in body, false, 'empty avatar is omitted');
    assert.equal(body.organization_id, world.org.id);
    assert.equal(body.template_id, world.template.id);
    assert.equal(body.template_version_id, world.version.id);
    assert.equal(body.template_name, world.template.name);
    assert.equal(body.workspace_id, a1.workspaceId);
    assert.equal(body.workspace_name, 'fix-login');
    assert.equal(body.workspace_status, 'running');
    assert.equal(body.initial_prompt, 'do the thing');
    assert.equal(body.status, 'active');
    assert.match(body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  test('updated_at is the workspace\'s', async () => {
    await sql(stack, "update workspaces set updated_at = '2030-01-02T03:04:05Z' where id = ?", [a2.workspaceId]);
    assert.equal((await get(world.alice, 'me', a2.taskId)).body.updated_at, '2030-01-02T03:04:05Z');
  });

  test('a task whose workspace is marked deleted is still returned', async () => {
    const t = await seedTaskOf(stack, world, world.alice);
    await addBuild(stack, t, { transition: 'delete', jobStatus: 'succeeded' });
    await sql(stack, 'update workspaces set deleted = true where id = ?', [t.workspaceId]);
    const res = await get(world.alice, 'me', t.taskId);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'paused');
    assert.equal(res.body.workspace_status, 'deleted');
    await sql(stack, 'update tasks set deleted_at = now() where id = ?', [t.taskId]);
  });

  test('a workspace without any build is 404; a task without workspace is 500', async () => {
    const noBuild = await seedTaskOf(stack, world, world.alice);
    assert.deepEqual((await get(world.alice, 'me', noBuild.taskId)).body, NOT_FOUND);
    await sql(stack, 'update tasks set deleted_at = now() where id = ?', [noBuild.taskId]);
    const noWorkspace = await seedTaskOf(stack, world, world.alice, { withWorkspace: false });
    try {
      const res = await get(world.alice, 'me', noWorkspace.taskId);
      assert.equal(res.status, 500);
      assert.deepEqual(res.body, { message: 'Internal error fetching task.', detail: 'Task workspace ID is invalid.' });
      // one such task fails the whole list, as in Coder
      const listed = await list(world.alice);
      assert.equal(listed.status, 500);
      assert.deepEqual(listed.body, { message: 'Internal error converting tasks.', detail: 'task has no workspace ID' });
    } finally {
      await sql(stack, 'update tasks set deleted_at = now() where id = ?', [noWorkspace.taskId]);
    }
  });

  test('a deleted task is gone', async () => {
    const t = await seedTaskOf(stack, world, world.alice);
    await addBuild(stack, t, active);
    await sql(stack, 'update tasks set deleted_at = now() where id = ?', [t.taskId]);
    assert.equal((await get(world.alice, 'me', t.taskId)).status, 404);
  });
});

describe('GET /tasks (§3.2)', () => {
  test('without q: every task the caller may see, newest first; count is the length', async () => {
    const alice = (await list(world.alice)).body;
    assert.deepEqual(ids(alice), [a3.taskId, a2.taskId, a1.taskId]);
    assert.equal(alice.count, 3);
    const owner = (await list(world.owner)).body;
    assert.deepEqual(ids(owner), [b1.taskId, a3.taskId, a2.taskId, a1.taskId]);
    // the admin of the default organization sees its tasks, not those of acme
    assert.deepEqual(ids((await list(world.admin)).body), [b1.taskId, a2.taskId, a1.taskId]);
  });

  test('nothing visible: {"tasks":[],"count":0}', async () => {
    const res = await list(zed);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { tasks: [], count: 0 });
  });
});

describe('search grammar (§5)', () => {
  const cases: [string, () => string[]][] = [
    ['', () => [b1.taskId, a3.taskId, a2.taskId, a1.taskId]],
    ['owner:alice', () => [a3.taskId, a2.taskId, a1.taskId]],
    ['owner:me', () => [b1.taskId]], // as bob below
    ['status:active', () => [b1.taskId, a1.taskId]],
    ['status:pending', () => [a3.taskId]],
    ['status:paused', () => [a2.taskId]],
    ['organization:acme', () => [a3.taskId]],
    ['owner:alice organization:coder status:active', () => [a1.taskId]],
    ['owner:"alice"', () => [a3.taskId, a2.taskId, a1.taskId]],
    ['status:"pending"', () => [a3.taskId]],
    ['alice', () => [a3.taskId, a2.taskId, a1.taskId]],
    ['OWNER:Alice STATUS:Active', () => [a1.taskId]],
    ['owner:alice owner:bob', () => [a3.taskId, a2.taskId, a1.taskId]],
    ['owner:"me" organization:"acme" status:"pending"', () => []],
  ];
  for (const [q, expected] of cases) {
    test(`q=${JSON.stringify(q)}`, async () => {
      const who = q === 'owner:me' ? world.bob : world.owner;
      const res = await list(who, q);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(ids(res.body), expected());
    });
  }

  test('owner:<uuid> and organization:<uuid> are taken without a lookup', async () => {
    assert.deepEqual(ids((await list(world.owner, `owner:${world.alice.user.id}`)).body), [a3.taskId, a2.taskId, a1.taskId]);
    assert.deepEqual(ids((await list(world.owner, `organization:${acme.id}`)).body), [a3.taskId]);
    const unknown = await list(world.owner, `owner:${randomUUID()}`);
    assert.equal(unknown.status, 200);
    assert.deepEqual(unknown.body, { tasks: [], count: 0 });
  });

  test('filters never widen what the caller may see', async () => {
    assert.deepEqual(ids((await list(world.bob, 'owner:alice')).body), []);
  });

  // [q, validations, caller (default: the site owner)]
  const errors: [string, { field: string; detail: string }[], 'zed'?][] = [
    ['owner:nonexistent', [{ field: 'owner', detail: 'Query param "owner" has invalid value: user "nonexistent" either does not exist, or you are unauthorized to view them' }]],
    ['owner:alice', [{ field: 'owner', detail: 'Query param "owner" has invalid value: user "alice" either does not exist, or you are unauthorized to view them' }], 'zed'],
    ['organization:nonexistent', [{ field: 'organization', detail: 'Query param "organization" has invalid value: organization "nonexistent" either does not exist, or you are unauthorized to view it' }]],
    ['owner:alice invalid:param', [{ field: 'invalid', detail: 'Query param "invalid" is not a valid query param' }]],
    ['owner:alice:extra', [{ field: 'q', detail: 'Query element "owner:alice:extra" can only contain 1 \':\'' }]],
    [':owner', [{ field: 'q', detail: 'Query element ":owner" cannot start or end with \':\'' }]],
    ['owner:', [{ field: 'q', detail: 'Query element "owner:" cannot start or end with \':\'' }]],
    ['status:running', [{ field: 'status', detail: 'Query param "status" has invalid value: "running" is not a valid task status (must be one of: pending, initializing, active, paused, unknown, error)' }]],
  ];
  for (const [q, validations, caller] of errors) {
    test(`q=${JSON.stringify(q)} as ${caller ?? 'owner'} → 400`, async () => {
      const res = await list(caller === 'zed' ? zed : world.owner, q);
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { message: 'Invalid task search query.', validations });
    });
  }
});

describe('pagination (beyond Coder)', () => {
  test('limit / offset page through the list; count is then the total', async () => {
    const first = (await list(world.owner, '', '&limit=3')).body;
    assert.deepEqual(ids(first), [b1.taskId, a3.taskId, a2.taskId]);
    assert.equal(first.count, 4);
    const second = (await list(world.owner, '', '&limit=3&offset=3')).body;
    assert.deepEqual(ids(second), [a1.taskId]);
    assert.equal(second.count, 4);
    // past the end: no rows to carry the count, which is still the total
    assert.deepEqual((await list(world.owner, '', '&limit=3&offset=9')).body, { tasks: [], count: 4 });
  });

  test('after_id continues after a task, with filters', async () => {
    const page = (await list(world.owner, 'owner:alice', `&limit=2&after_id=${a3.taskId}`)).body;
    assert.deepEqual(ids(page), [a2.taskId, a1.taskId]);
    assert.equal(page.count, 3);
    assert.deepEqual((await list(world.owner, '', `&after_id=${a1.taskId}`)).body, { tasks: [], count: 4 });
  });

  test('count is the total of the filtered list, deleted tasks left out, with and without a status filter', async () => {
    // the count is taken from the task table unless a status filter needs the view (bench/list-scale.ts)
    assert.equal((await list(world.owner, '', '&limit=1')).body.count, 4);
    assert.equal((await list(world.owner, 'status:active', '&limit=1')).body.count, 2);
    assert.equal((await list(world.owner, 'owner:alice status:paused', '&limit=1')).body.count, 1);
  });

  test('invalid paging parameters are 400', async () => {
    for (const extra of ['&limit=0', '&limit=abc', '&offset=-1', '&after_id=nope']) {
      const res = await list(world.owner, '', extra);
      assert.equal(res.status, 400, extra);
      assert.equal(res.body.message, 'Query parameters have invalid values.');
    }
  });
});
