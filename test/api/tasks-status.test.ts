// Spec §2: task status and current_state, row by row. Each row's inputs are written straight into
// the database; the single read (GET /tasks/{user}/{task}) and the list filter
// (GET /tasks?q=status:...) must both report the row's status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { taskWorld, seedTaskOf, type TaskWorld } from '../helpers/task-world';
import { addAppStatus, addBuild, sql, type BuildRowsOptions, type TaskRows } from '../helpers/task-rows';

let stack: TestStack;
let world: TaskWorld;

before(async () => {
  stack = await startTestStack({ worker: false });
  world = await taskWorld(stack);
});
after(async () => {
  await stack?.close();
});

type Status = 'pending' | 'initializing' | 'active' | 'paused' | 'unknown' | 'error';

interface Row {
  name: string;
  builds: BuildRowsOptions[];
  expected: Status;
}

const ok = (agent: string | null, app: { health: string } | null = null): BuildRowsOptions => ({
  transition: 'start',
  jobStatus: 'succeeded',
  agent,
  app,
});

const ROWS: Row[] = [
  // build component
  { name: 'no task_workspace_apps row', builds: [{ transition: 'start', jobStatus: 'succeeded', taskRow: false }], expected: 'pending' },
  ...(['start', 'stop', 'delete'] as const).flatMap((transition) =>
    (['failed', 'canceling', 'canceled'] as const).map((jobStatus) => ({
      name: `${transition} + ${jobStatus}`,
      builds: [{ transition, jobStatus }],
      expected: 'error' as Status,
    })),
  ),
  { name: 'stop + succeeded', builds: [ok('ready', { health: 'healthy' }), { transition: 'stop', jobStatus: 'succeeded' }], expected: 'paused' },
  { name: 'delete + succeeded', builds: [{ transition: 'delete', jobStatus: 'succeeded' }], expected: 'paused' },
  { name: 'start + pending', builds: [{ transition: 'start', jobStatus: 'pending' }], expected: 'pending' },
  { name: 'start + running defers (agent NULL)', builds: [{ transition: 'start', jobStatus: 'running' }], expected: 'initializing' },
  {
    name: 'start + running defers to a ready agent and healthy app',
    builds: [{ transition: 'start', jobStatus: 'running', agent: 'ready', app: { health: 'healthy' } }],
    expected: 'active',
  },
  ...(['stop', 'delete'] as const).flatMap((transition) =>
    (['pending', 'running'] as const).map((jobStatus) => ({
      name: `${transition} + ${jobStatus}`,
      builds: [ok('ready', { health: 'healthy' }), { transition, jobStatus }],
      expected: 'unknown' as Status,
    })),
  ),
  // agent component
  { name: 'agent NULL', builds: [ok(null)], expected: 'initializing' },
  { name: 'agent created', builds: [ok('created', { health: 'healthy' })], expected: 'initializing' },
  { name: 'agent starting', builds: [ok('starting', { health: 'healthy' })], expected: 'initializing' },
  { name: 'agent ready defers to app', builds: [ok('ready', { health: 'healthy' })], expected: 'active' },
  { name: 'agent start_timeout defers to app', builds: [ok('start_timeout', { health: 'healthy' })], expected: 'active' },
  { name: 'agent start_error defers to app', builds: [ok('start_error', { health: 'disabled' })], expected: 'active' },
  ...(['shutting_down', 'shutdown_timeout', 'shutdown_error', 'off'] as const).map((lifecycle) => ({
    name: `agent ${lifecycle}`,
    builds: [ok(lifecycle, { health: 'healthy' })],
    expected: 'unknown' as Status,
  })),
  // app component
  { name: 'app initializing', builds: [ok('ready', { health: 'initializing' })], expected: 'initializing' },
  { name: 'app unhealthy', builds: [ok('ready', { health: 'unhealthy' })], expected: 'error' },
  { name: 'app healthy', builds: [ok('ready', { health: 'healthy' })], expected: 'active' },
  { name: 'app disabled', builds: [ok('ready', { health: 'disabled' })], expected: 'active' },
  { name: 'app NULL', builds: [ok('ready', null)], expected: 'unknown' },
  { name: 'app health of an unknown value', builds: [ok('ready', { health: 'sideways' })], expected: 'unknown' },
];

async function getTask(taskId: string) {
  const res = await stack.api('GET', `/api/v2/tasks/me/${taskId}`, { token: world.alice.token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

describe('status derivation (§2.1)', () => {
  const seeded: { row: Row; task: TaskRows }[] = [];

  before(async () => {
    for (const row of ROWS) {
      const task = await seedTaskOf(stack, world, world.alice);
      for (const b of row.builds) await addBuild(stack, task, b);
      seeded.push({ row, task });
    }
  });

  for (const row of ROWS) {
    test(`${row.name} → ${row.expected} (single read)`, async () => {
      const { task } = seeded.find((s) => s.row === row)!;
      assert.equal((await getTask(task.taskId)).status, row.expected);
    });
  }

  test('a build number on the task row without a build is pending', async () => {
    const task = await seedTaskOf(stack, world, world.alice);
    await addBuild(stack, task, { transition: 'start', jobStatus: 'succeeded', taskRow: false });
    await sql(stack, 'insert into task_workspace_apps (task_id, workspace_build_number) values (?, 7)', [task.taskId]);
    assert.equal((await getTask(task.taskId)).status, 'pending');
  });

  test('every status filter lists exactly the rows of that status', async () => {
    for (const status of ['pending', 'initializing', 'active', 'paused', 'unknown', 'error'] as const) {
      const res = await stack.api('GET', `/api/v2/tasks?q=${encodeURIComponent(`owner:alice status:${status}`)}`, {
        token: world.alice.token,
      });
      assert.equal(res.status, 200);
      const listed = new Set(res.body.tasks.map((t: { id: string }) => t.id));
      for (const { row, task } of seeded) {
        assert.equal(listed.has(task.taskId), row.expected === status, `${row.name} under status:${status}`);
      }
      for (const t of res.body.tasks) assert.equal(t.status, status);
    }
  });
});

describe('current_state (§2.2)', () => {
  const t0 = new Date('2026-01-01T10:00:00Z');
  const after = (s: number) => new Date(t0.getTime() + s * 1000);

  test('a status reported after the latest start build is shown verbatim', async () => {
    const task = await seedTaskOf(stack, world, world.alice);
    const build = await addBuild(stack, task, { ...ok('ready', { health: 'healthy' }), createdAt: t0 });
    await addAppStatus(stack, task, build, { state: 'working', message: 'Reading code', uri: 'file:///x', createdAt: after(5) });
    const body = await getTask(task.taskId);
    assert.deepEqual(body.current_state, {
      timestamp: after(5).toISOString().replace('.000Z', 'Z'),
      state: 'working',
      message: 'Reading code',
      uri: 'file:///x',
    });
  });

  test('a status older than the latest start build is hidden; an empty uri reads ""', async () => {
    const task = await seedTaskOf(stack, world, world.alice);
    const first = await addBuild(stack, task, { ...ok('ready', { health: 'healthy' }), createdAt: t0 });
    await addAppStatus(stack, task, first, { state: 'idle', createdAt: after(1) });
    await addBuild(stack, task, { transition: 'stop', jobStatus: 'succeeded', createdAt: after(2) });
    // after a stop the last reported state stays visible
    const paused = await getTask(task.taskId);
    assert.equal(paused.status, 'paused');
    assert.deepEqual(paused.current_state, { timestamp: '2026-01-01T10:00:01Z', state: 'idle', message: '', uri: '' });
    // a new start build hides it again
    await addBuild(stack, task, { ...ok('ready', { health: 'healthy' }), createdAt: after(3) });
    const running = await getTask(task.taskId);
    assert.equal(running.status, 'active');
    assert.equal(running.current_state, null);
  });

  test('a failed app status passes through as "failure"', async () => {
    const task = await seedTaskOf(stack, world, world.alice);
    const build = await addBuild(stack, task, { ...ok('ready', { health: 'healthy' }), createdAt: t0 });
    await addAppStatus(stack, task, build, { state: 'failure', message: 'Tests fail', createdAt: after(1) });
    assert.equal((await getTask(task.taskId)).current_state.state, 'failure');
  });

  const synthesized: { name: string; build: BuildRowsOptions; message: string }[] = [
    { name: 'start job running', build: { transition: 'start', jobStatus: 'running' }, message: 'Workspace is starting' },
    { name: 'agent created', build: ok('created', { health: 'healthy' }), message: 'Agent is connecting' },
    { name: 'agent starting', build: ok('starting', { health: 'healthy' }), message: 'Agent is starting' },
    { name: 'app initializing', build: ok('ready', { health: 'initializing' }), message: 'App is initializing' },
    { name: 'agent start_timeout, app initializing', build: ok('start_timeout', { health: 'initializing' }), message: 'Initializing workspace agent' },
    { name: 'no agent yet', build: ok(null), message: 'Initializing workspace' },
  ];
  for (const row of synthesized) {
    test(`initializing with ${row.name}: "${row.message}"`, async () => {
      const task = await seedTaskOf(stack, world, world.alice);
      await addBuild(stack, task, { ...row.build, createdAt: t0 });
      const body = await getTask(task.taskId);
      assert.equal(body.status, 'initializing');
      assert.deepEqual(body.current_state, { timestamp: '2026-01-01T10:00:00Z', state: 'working', message: row.message, uri: '' });
    });
  }

  test('no status and not initializing: null', async () => {
    const task = await seedTaskOf(stack, world, world.alice);
    await addBuild(stack, task, ok('ready', { health: 'healthy' }));
    assert.equal((await getTask(task.taskId)).current_state, null);
  });

  test('the latest status of any app of the workspace counts, not only the task app', async () => {
    const task = await seedTaskOf(stack, world, world.alice);
    const build = await addBuild(stack, task, { ...ok('ready', { health: 'healthy' }), createdAt: t0 });
    const otherApp = (
      await sql<{ id: string }>(
        stack,
        `insert into workspace_apps (id, agent_id, slug, url, health, created_at, updated_at)
         values (gen_random_uuid(), ?, 'sidecar', '', 'disabled', now(), now()) returning id`,
        [build.agentId],
      )
    )[0]!.id;
    await addAppStatus(stack, task, build, { state: 'working', createdAt: after(1) });
    await addAppStatus(stack, task, { ...build, appId: otherApp }, { state: 'complete', message: 'sidecar done', createdAt: after(2) });
    assert.equal((await getTask(task.taskId)).current_state.message, 'sidecar done');
  });
});

describe('agent fields of the Task (§1.3)', () => {
  test('health follows the lifecycle; null without an agent', async () => {
    const cases: [string | null, unknown][] = [
      [null, null],
      ['ready', { healthy: true }],
      ['start_timeout', { healthy: true }],
      ['start_error', { healthy: false, reason: 'agent startup script exited with an error' }],
      ['shutting_down', { healthy: false, reason: 'agent is shutting down' }],
      ['off', { healthy: false, reason: 'agent is not running' }],
    ];
    for (const [lifecycle, health] of cases) {
      const task = await seedTaskOf(stack, world, world.alice);
      const build = await addBuild(stack, task, ok(lifecycle, { health: 'healthy' }));
      const body = await getTask(task.taskId);
      assert.deepEqual(body.workspace_agent_health, health, `lifecycle ${lifecycle}`);
      assert.equal(body.workspace_agent_lifecycle, lifecycle);
      assert.equal(body.workspace_agent_id, build.agentId);
      assert.equal(body.workspace_app_id, build.appId);
      assert.equal(body.workspace_build_number, 1);
    }
  });

  test('an agent that is not in the latest build has no health', async () => {
    const task = await seedTaskOf(stack, world, world.alice);
    const first = await addBuild(stack, task, ok('ready', { health: 'healthy' }));
    await addBuild(stack, task, { transition: 'start', jobStatus: 'succeeded', taskRow: false });
    const body = await getTask(task.taskId);
    assert.equal(body.workspace_agent_id, first.agentId);
    assert.equal(body.workspace_agent_health, null);
  });

  test('no task_workspace_apps row: build number omitted, ids null', async () => {
    const task = await seedTaskOf(stack, world, world.alice);
    await addBuild(stack, task, { transition: 'start', jobStatus: 'pending', taskRow: false });
    const body = await getTask(task.taskId);
    assert.equal('workspace_build_number' in body, false);
    assert.equal(body.workspace_agent_id, null);
    assert.equal(body.workspace_app_id, null);
    assert.equal(body.workspace_agent_lifecycle, null);
  });
});
