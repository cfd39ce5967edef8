// Spec §3.3 (create), §6 (names) and the Idempotency-Key of issue 4, against the real workflow and
// the echo provisioner.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate, createUserWithToken } from '../helpers/fixtures';
import { taskWorld, type Person, type TaskWorld } from '../helpers/task-world';
import { sql } from '../helpers/task-rows';
import { waitFor } from '../helpers/wait';

const NIL = '00000000-0000-0000-0000-000000000000';
const TV_NOT_FOUND = { message: 'Template version not found or you do not have access to this resource' };

let stack: TestStack;
let world: TaskWorld;

before(async () => {
  stack = await startTestStack();
  world = await taskWorld(stack);
});
after(async () => {
  await stack?.close();
});

function create(who: Person, body: unknown, opts: { user?: string; headers?: Record<string, string>; prefix?: string } = {}) {
  return stack.api('POST', `${opts.prefix ?? '/api/v2'}/tasks/${opts.user ?? 'me'}`, {
    token: who.token,
    body,
    ...(opts.headers ? { headers: opts.headers } : {}),
  });
}

const withVersion = (extra: Record<string, unknown>) => ({ template_version_id: world.version.id, ...extra });

describe('POST /tasks/{user} (§3.3)', () => {
  test('201 with the task read back; it becomes active once its workspace runs', async () => {
    const res = await create(world.alice, withVersion({ input: 'Create a finance planning app', template_version_preset_id: NIL }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const task = res.body;
    assert.match(task.name, /^create-a-finance-planning-[0-9a-f]{4}$/);
    assert.equal(task.display_name, 'Create a finance planning app');
    assert.equal(task.initial_prompt, 'Create a finance planning app');
    assert.equal(task.owner_id, world.alice.user.id);
    assert.equal(task.owner_name, 'alice');
    assert.equal(task.organization_id, world.org.id);
    assert.equal(task.template_id, world.template.id);
    assert.equal(task.template_version_id, world.version.id);
    assert.equal(task.workspace_name, task.name, 'the workspace is named exactly like the task');
    assert.ok(task.workspace_id);
    assert.ok(['pending', 'initializing', 'active'].includes(task.status), task.status);
    const activeTask = await waitFor(async () => {
      const got = await stack.api('GET', `/api/v2/tasks/me/${task.id}`, { token: world.alice.token });
      return got.body.status === 'active' ? got.body : null;
    }, { what: 'task active' });
    assert.equal(activeTask.workspace_status, 'running');
    assert.equal(activeTask.workspace_agent_health.healthy, true);
  });

  test('two audit entries: the task and its workspace', async () => {
    const res = await create(world.alice, withVersion({ input: 'audit me', name: 'audited-task' }));
    assert.equal(res.status, 201);
    const rows = await sql<{ resource_type: string; action: string; status_code: number; user_id: string }>(
      stack,
      'select resource_type, action, status_code, user_id from audit_logs where resource_id in (?, ?) order by resource_type',
      [res.body.id, res.body.workspace_id],
    );
    assert.deepEqual(rows, [
      { resource_type: 'task', action: 'create', status_code: 201, user_id: world.alice.user.id },
      { resource_type: 'workspace', action: 'create', status_code: 201, user_id: world.alice.user.id },
    ]);
  });

  test('the template version: missing, unknown or unreadable is 400; malformed ids and JSON are decode errors', async () => {
    const acme = await stack.api('POST', '/api/v2/organizations', { token: world.owner.token, body: { name: 'acme' } });
    const foreign = await createAiTemplate(stack, world.owner.token, acme.body.id);
    for (const body of [{ input: 'x' }, withVersion({ template_version_id: randomUUID(), input: 'x' }), { template_version_id: foreign.version.id, input: 'x' }]) {
      const res = await create(world.alice, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.deepEqual(res.body, TV_NOT_FOUND);
    }
    const malformed = await create(world.alice, { template_version_id: 'not-a-uuid', input: 'x' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.message, 'Request body must be valid JSON.');
    const badJson = await stack.api('POST', '/api/v2/tasks/me', { token: world.alice.token, rawBody: '{"input": ' });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.message, 'Request body must be valid JSON.');
  });

  test('a template without an AI task is refused', async () => {
    const plain = await createAiTemplate(stack, world.owner.token, world.org.id, { workspace: { ai_task: undefined } });
    assert.equal(plain.version.has_ai_task, false);
    const res = await create(world.alice, { template_version_id: plain.version.id, input: 'x' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, { message: 'Template does not have a valid "coder_ai_task" resource.' });
  });

  test('user-supplied names are validated untrimmed (§6.2)', async () => {
    const cases: [string, string][] = [
      ['a'.repeat(33), 'must be <= 32 characters'],
      ['new', 'cannot use "new" as a name'],
      ['create', 'cannot use "create" as a name'],
      ['bad_name', 'must be alphanumeric with hyphens'],
      ['-leading', 'must be alphanumeric with hyphens'],
      ['trailing-', 'must be alphanumeric with hyphens'],
      ['double--hyphen', 'must be alphanumeric with hyphens'],
      ['has space', 'must be alphanumeric with hyphens'],
      [' padded', 'must be alphanumeric with hyphens'],
    ];
    for (const [name, detail] of cases) {
      const res = await create(world.alice, withVersion({ input: 'x', name }));
      assert.equal(res.status, 400, name);
      assert.deepEqual(res.body, { message: 'Unable to create a Task with the provided name.', detail }, name);
    }
  });

  test('display names: trimmed, at most 64 bytes', async () => {
    const tooLong = await create(world.alice, withVersion({ input: 'x', display_name: 'é'.repeat(33) }));
    assert.equal(tooLong.status, 400);
    assert.deepEqual(tooLong.body, { message: 'Display name must be 64 characters or less.' });
    const padded = await create(world.alice, withVersion({ input: 'x', name: 'Upper-Case-Ok', display_name: `  ${'d'.repeat(64)}  ` }));
    assert.equal(padded.status, 201, JSON.stringify(padded.body));
    assert.equal(padded.body.name, 'Upper-Case-Ok');
    assert.equal(padded.body.display_name, 'd'.repeat(64));
  });

  test('only the missing one of name / display name is generated', async () => {
    const named = await create(world.alice, withVersion({ input: 'fix the flaky test', name: 'my-name' }));
    assert.equal(named.body.name, 'my-name');
    assert.equal(named.body.display_name, 'Fix the flaky test');
    const titled = await create(world.alice, withVersion({ input: 'fix the flaky test', display_name: 'My title' }));
    assert.match(titled.body.name, /^fix-the-flaky-test-[0-9a-f]{4}$/);
    assert.equal(titled.body.display_name, 'My title');
  });

  test('a name already in use (case-insensitively) is 409', async () => {
    assert.equal((await create(world.alice, withVersion({ input: 'x', name: 'dup-task' }))).status, 201);
    for (const name of ['dup-task', 'DUP-Task']) {
      const res = await create(world.alice, withVersion({ input: 'x', name }));
      assert.equal(res.status, 409);
      assert.deepEqual(res.body, {
        message: `Workspace "${name}" already exists.`,
        validations: [{ field: 'name', detail: 'This value is already in use and should be unique.' }],
      });
    }
    // another owner may use the name
    assert.equal((await create(world.bob, withVersion({ input: 'x', name: 'dup-task' }))).status, 201);
  });

  test('presets: the nil UUID means none, a preset of the version is used, anything else is 400', async () => {
    const withPreset = await createAiTemplate(stack, world.owner.token, world.org.id, { presets: [{ name: 'fast', parameters: { size: 's' } }] });
    const presetId = withPreset.version.presets[0]!.ID;
    const ok = await create(world.alice, { template_version_id: withPreset.version.id, template_version_preset_id: presetId, input: 'x' });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const builds = await stack.api('GET', `/api/v2/workspaces/${ok.body.workspace_id}/builds`, { token: world.alice.token });
    assert.equal(builds.body.at(-1).template_version_preset_id, presetId);
    const unknown = await create(world.alice, { template_version_id: withPreset.version.id, template_version_preset_id: randomUUID(), input: 'x' });
    assert.equal(unknown.status, 400);
    const elsewhere = await create(world.alice, withVersion({ template_version_preset_id: presetId, input: 'x' }));
    assert.equal(elsewhere.status, 400);
  });

  test('empty input is accepted (names fall back to a random one)', async () => {
    const res = await create(world.alice, withVersion({ input: '' }));
    assert.equal(res.status, 201);
    assert.match(res.body.name, /^[a-z0-9]+(-[a-z0-9]+)*-[0-9a-f]{4}$/);
  });

  test('owners: an admin creates for a member; a member cannot create for another; unknown users are 404', async () => {
    const forAlice = await create(world.admin, withVersion({ input: 'for alice' }), { user: 'alice' });
    assert.equal(forAlice.status, 201, JSON.stringify(forAlice.body));
    assert.equal(forAlice.body.owner_id, world.alice.user.id);
    assert.equal((await create(world.bob, withVersion({ input: 'x' }), { user: 'alice' })).status, 403);
    assert.equal((await create(world.bob, withVersion({ input: 'x' }), { user: 'nobody' })).status, 404);
    const outsider = await createUserWithToken(stack, world.owner.token, { username: 'outsider', organizationIds: [] });
    const res = await create(outsider, withVersion({ input: 'x' }));
    assert.equal(res.status, 400);
    assert.deepEqual(res.body, TV_NOT_FOUND);
  });

  test('a NUL character in the input or display name is 400 at once (found by test/fuzz: it hung the create)', async () => {
    for (const [field, body] of [
      ['input', withVersion({ input: 'a\u0000b' })],
      ['display_name', withVersion({ input: 'x', display_name: 'a\u0000b' })],
    ] as const) {
      const res = await create(world.alice, body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.deepEqual(res.body.validations, [{ field, detail: 'must not contain NUL characters' }]);
    }
    assert.equal((await create(world.alice, withVersion({ input: 'x' }), { user: 'me%00' })).status, 400);
  });

  test('a lone surrogate (an unpaired \\ud800 escape) is 400 before anything is written, where it once became an unaudited task', async () => {
    const before = await stack.api('GET', '/api/v2/tasks?q=owner:me', { token: world.alice.token });
    for (const [field, body] of [
      ['input', withVersion({ input: 'hello \ud800 world' })],
      ['display_name', withVersion({ input: 'x', display_name: 'tail \udc00' })],
    ] as const) {
      const res = await create(world.alice, body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.validations.length, 1);
      assert.equal(res.body.validations[0].field, field);
      assert.match(res.body.validations[0].detail, /lone surrogate/);
    }
    const after = await stack.api('GET', '/api/v2/tasks?q=owner:me', { token: world.alice.token });
    assert.equal(after.body.count, before.body.count, 'no task was created');
    // a well-formed pair (an emoji written as two escapes) is text like any other
    const emoji = await create(world.alice, withVersion({ input: 'ship it \ud83d\ude80' }));
    assert.equal(emoji.status, 201, JSON.stringify(emoji.body));
  });

  test('the route answers under /api/experimental too', async () => {
    const res = await create(world.alice, withVersion({ input: 'experimental' }), { prefix: '/api/experimental' });
    assert.equal(res.status, 201);
  });
});

describe('generated names through the API (§6.1)', () => {
  const vectors: [string, RegExp, string][] = [
    ['BUILD MY APP', /^build-my-app-[0-9a-f]{4}$/, 'BUILD MY APP'],
    ["fix user's dashboard", /^fix-users-dashboard-[0-9a-f]{4}$/, "Fix user's dashboard"],
    ['a'.repeat(100), new RegExp(`^${'a'.repeat(27)}-[0-9a-f]{4}$`), `A${'a'.repeat(62)}…`],
    ['build    my    app', /^build-my-app-[0-9a-f]{4}$/, 'Build    my    app'],
    ['build\nmy\napp', /^build-my-app-[0-9a-f]{4}$/, 'Build my app'],
    ['implement real-time notifications dashboard', /^implement-real-time-[0-9a-f]{4}$/, 'Implement real-time notifications dashboard'],
  ];
  for (const [input, name, displayName] of vectors) {
    test(JSON.stringify(input.length > 40 ? `${input.slice(0, 20)}…` : input), async () => {
      const res = await create(world.bob, withVersion({ input }));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.match(res.body.name, name);
      assert.equal(res.body.display_name, displayName);
    });
  }
  for (const input of ['', '     ', '!@#$%^&*()']) {
    test(`${JSON.stringify(input)} falls back to a random valid name`, async () => {
      const res = await create(world.bob, withVersion({ input }));
      assert.equal(res.status, 201);
      assert.match(res.body.name, /^[a-z0-9]+(-[a-z0-9]+)*-[0-9a-f]{4}$/);
      assert.ok(Buffer.byteLength(res.body.name) <= 32);
      assert.match(res.body.display_name, /^[A-Z][a-z]* [a-z]+$/);
    });
  }
});

describe('Idempotency-Key (beyond Coder)', () => {
  test('ten racing identical requests create one task, one workflow, one build', async () => {
    const key = `key-${randomUUID()}`;
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => create(world.alice, withVersion({ input: 'race me' }), { headers: { 'Idempotency-Key': key } })),
    );
    for (const r of responses) assert.equal(r.status, 201, JSON.stringify(r.body));
    const taskIds = new Set(responses.map((r) => r.body.id));
    assert.equal(taskIds.size, 1);
    const [taskId] = [...taskIds];
    const tasks = await sql(stack, 'select id, workspace_id from tasks where owner_id = ? and idempotency_key = ?', [world.alice.user.id, key]);
    assert.equal(tasks.length, 1);
    const builds = await sql(stack, 'select build_number from workspace_builds where workspace_id = ?', [tasks[0].workspace_id]);
    assert.deepEqual(builds.map((b) => b.build_number), [1]);
    const runs = await waitFor(async () => {
      const found = [];
      for await (const w of stack.temporal.workflow.list({ query: `WorkflowId = 'task-${taskId}'` })) found.push(w);
      return found.length > 0 ? found : null;
    }, { what: 'workflow visible' });
    assert.equal(runs.length, 1);
    // a later retry answers with the same task and starts nothing
    const replay = await create(world.alice, withVersion({ input: 'race me' }), { headers: { 'Idempotency-Key': key } });
    assert.equal(replay.status, 201);
    assert.equal(replay.body.id, taskId);
    assert.equal((await sql(stack, 'select 1 from tasks where idempotency_key = ?', [key])).length, 1);
  });

  test('keys are per owner; a key whose task was deleted is spent', async () => {
    const key = `key-${randomUUID()}`;
    const a = await create(world.alice, withVersion({ input: 'mine' }), { headers: { 'Idempotency-Key': key } });
    const b = await create(world.bob, withVersion({ input: 'mine' }), { headers: { 'Idempotency-Key': key } });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(a.body.id, b.body.id);
    const other = await create(world.alice, withVersion({ input: 'mine' }), { headers: { 'Idempotency-Key': `${key}-2` } });
    assert.notEqual(other.body.id, a.body.id);
    await sql(stack, 'update tasks set deleted_at = now() where id = ?', [a.body.id]);
    const spent = await create(world.alice, withVersion({ input: 'mine' }), { headers: { 'Idempotency-Key': key } });
    assert.equal(spent.status, 409);
    const blank = await create(world.alice, withVersion({ input: 'mine' }), { headers: { 'Idempotency-Key': ' ' } });
    assert.equal(blank.status, 400);
  });
});
