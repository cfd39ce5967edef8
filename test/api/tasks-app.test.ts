// Spec §3.7 (send), §3.8 (logs) and §3.10 (the task-app gate). Tasks are written straight into the
// database with their app pointing at a real AgentAPI server (the built-in agent) or at a fake one
// that misbehaves on demand.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestStack, type TestStack } from '../helpers/stack';
import { taskWorld, seedTaskOf, type Person, type TaskWorld } from '../helpers/task-world';
import { addBuild, sql, type BuildRowsOptions } from '../helpers/task-rows';
import { freePort } from '../../devstack/free-port';
import { startBuiltinAgent, type BuiltinAgent } from '../../agent/agentapi-server';

let stack: TestStack;
let world: TaskWorld;
let agent: BuiltinAgent;
let fake: { url: string; server: Server; received: string[]; answers: Record<string, [number, unknown]> };

before(async () => {
  stack = await startTestStack({ worker: false });
  world = await taskWorld(stack);
  agent = await startBuiltinAgent({ port: 0, thinkMs: 3_000, settleMs: 20, streamStepMs: 5, onWarning: () => undefined });
  const received: string[] = [];
  const answers: Record<string, [number, unknown]> = {};
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push(`${req.method} ${req.url} ${body}`);
      const [status, json] = answers[`${req.method} ${req.url}`] ?? [404, { title: 'Not Found' }];
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(typeof json === 'string' ? json : JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, received, answers };
});
after(async () => {
  await agent?.close();
  await new Promise((resolve) => fake?.server.close(resolve));
  await stack?.close();
});

const running = (url: string, health = 'healthy'): BuildRowsOptions => ({
  transition: 'start',
  jobStatus: 'succeeded',
  agent: 'ready',
  app: { health, url },
});

async function taskWith(builds: BuildRowsOptions[], who: Person = world.alice) {
  const task = await seedTaskOf(stack, world, who);
  const made = [];
  for (const b of builds) made.push(await addBuild(stack, task, b));
  return { ...task, builds: made };
}

const send = (taskId: string, body: unknown, who: Person = world.alice) =>
  stack.api('POST', `/api/v2/tasks/me/${taskId}/send`, { token: who.token, body });
const logs = (taskId: string, who: Person = world.alice) => stack.api('GET', `/api/v2/tasks/me/${taskId}/logs`, { token: who.token });

describe('task-app gate (§3.10)', () => {
  const resuming = 'The task is resuming. Wait for the task to become active before sending messages.';
  const states: [string, BuildRowsOptions[], number, Record<string, string>][] = [
    ['pending', [{ transition: 'start', jobStatus: 'pending' }], 409, { message: 'Task is pending.', detail: resuming }],
    ['initializing', [{ transition: 'start', jobStatus: 'running' }], 409, { message: 'Task is initializing.', detail: resuming }],
    ['paused', [{ transition: 'stop', jobStatus: 'succeeded' }], 409, { message: 'Task is paused.', detail: 'Resume the task to send messages.' }],
    ['error', [{ transition: 'start', jobStatus: 'failed' }], 400, { message: 'Task must be active.', detail: 'Task status is "error", it must be "active" to interact with the task.' }],
    ['unknown', [{ transition: 'stop', jobStatus: 'running' }], 400, { message: 'Task must be active.', detail: 'Task status is "unknown", it must be "active" to interact with the task.' }],
  ];
  for (const [name, builds, status, body] of states) {
    test(`send to a ${name} task: ${status}`, async () => {
      const task = await taskWith(builds);
      const res = await send(task.taskId, { input: 'hello' });
      assert.equal(res.status, status);
      assert.deepEqual(res.body, body);
    });
  }

  test('the app URL must be set, parse and be http; the app must answer', async () => {
    const closedPort = await freePort();
    const cases: [string, number, Record<string, string>][] = [
      ['', 500, { message: 'Task app URL is not configured.' }],
      ['http://[not-a-host', 500, { message: 'Internal error parsing task app URL.' }],
      ['https://127.0.0.1:3284', 400, { message: 'Only http scheme is supported for direct agent-dial.' }],
      [`http://127.0.0.1:${closedPort}`, 502, { message: 'Failed to reach task app endpoint.' }],
    ];
    for (const [url, status, expected] of cases) {
      const task = await taskWith([running(url)]);
      const res = await send(task.taskId, { input: 'hello' });
      assert.equal(res.status, status, url);
      assert.equal(res.body.message, expected.message, url);
    }
  });

  test('an app that is not among the agent\'s apps is an explicit 500', async () => {
    const task = await taskWith([running(agent.url)]);
    await sql(stack, "update workspace_apps set slug = 'moved', agent_id = (select id from workspace_agents where id <> ? limit 1) where id = ?", [
      task.builds[0]!.agentId,
      task.builds[0]!.appId,
    ]);
    const res = await send(task.taskId, { input: 'hello' });
    assert.equal(res.status, 500);
  });

  test('reading is not connecting: an org admin gets 404, a site owner gets through', async () => {
    const task = await taskWith([running(agent.url)]);
    assert.equal((await logs(task.taskId, world.admin)).status, 404);
    assert.equal((await logs(task.taskId, world.bob)).status, 404);
    assert.equal((await logs(task.taskId, world.owner)).status, 200);
  });
});

describe('POST /tasks/{user}/{task}/send (§3.7)', () => {
  test('only the exact empty string is refused', async () => {
    const paused = await taskWith([{ transition: 'stop', jobStatus: 'succeeded' }]);
    const empty = await send(paused.taskId, { input: '' });
    assert.equal(empty.status, 400);
    assert.deepEqual(empty.body, { message: 'Task input is required.' });
    assert.equal((await send(paused.taskId, {})).body.message, 'Task input is required.');
    // whitespace passes the check and reaches the gate
    assert.equal((await send(paused.taskId, { input: '  ' })).body.message, 'Task is paused.');
  });

  test('delivers the input to a stable app, then refuses while the app is busy', async () => {
    const task = await taskWith([running(agent.url)]);
    assert.equal((await send(task.taskId, { input: 'Please add tests' })).status, 204);
    const messages = (await (await fetch(`${agent.url}/messages`)).json()) as { messages: { role: string; content: string }[] };
    assert.ok(messages.messages.some((m) => m.role === 'user' && m.content === 'Please add tests'));
    const busy = await send(task.taskId, { input: 'and more' });
    assert.equal(busy.status, 502);
    assert.deepEqual(busy.body, { message: 'Task app is not ready to accept input.', detail: 'Status: running' });
  });

  test('the message is {"content","type":"user"}; app failures are 502 with Coder\'s messages', async () => {
    const task = await taskWith([running(fake.url)]);
    fake.answers['GET /status'] = [200, { status: 'stable', agent_type: 'custom' }];
    fake.answers['POST /message'] = [200, { ok: true }];
    fake.received.length = 0;
    assert.equal((await send(task.taskId, { input: 'hi "there"' })).status, 204);
    assert.ok(fake.received.includes('POST /message {"content":"hi \\"there\\"","type":"user"}'), fake.received.join('\n'));

    fake.answers['POST /message'] = [500, { title: 'Internal Server Error', detail: 'agent busy' }];
    const rejected = await send(task.taskId, { input: 'x' });
    assert.equal(rejected.status, 502);
    assert.equal(rejected.body.message, 'Task app rejected the message.');
    fake.answers['GET /status'] = [500, { title: 'Internal Server Error' }];
    const noStatus = await send(task.taskId, { input: 'x' });
    assert.equal(noStatus.status, 502);
    assert.equal(noStatus.body.message, 'Failed to get status from task app.');
  });
});

describe('GET /tasks/{user}/{task}/logs (§3.8)', () => {
  test('active: the live conversation, without the snapshot field', async () => {
    const fresh = await startBuiltinAgent({ port: 0, thinkMs: 20, settleMs: 20, streamStepMs: 5, onWarning: () => undefined });
    try {
      const task = await taskWith([running(fresh.url)]);
      const res = await logs(task.taskId);
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body), ['logs']);
      assert.equal(res.body.logs[0].type, 'output');
      assert.equal(res.body.logs[0].id, 0);
      assert.match(res.body.logs[0].content, /taskd built-in agent/);
    } finally {
      await fresh.close();
    }
  });

  test('active: app failures are 502', async () => {
    const task = await taskWith([running(fake.url)]);
    fake.answers['GET /messages'] = [200, { messages: [{ id: 1, content: 'x', role: 'system', time: '2026-01-01T00:00:00Z' }] }];
    const invalid = await logs(task.taskId);
    assert.equal(invalid.status, 502);
    assert.equal(invalid.body.message, 'Invalid task app response.');
    fake.answers['GET /messages'] = [503, { title: 'Service Unavailable' }];
    const down = await logs(task.taskId);
    assert.equal(down.status, 502);
    assert.equal(down.body.message, 'Failed to get messages from task app.');
  });

  const snapshot = (taskId: string, envelope: unknown, at = '2026-02-03T04:05:06Z') =>
    sql(stack, 'insert into task_snapshots (task_id, log_snapshot, log_snapshot_created_at) values (?, ?::jsonb, ?)', [
      taskId,
      JSON.stringify(envelope),
      at,
    ]);

  test('paused without a snapshot: empty logs, snapshot true, no snapshot_at', async () => {
    const task = await taskWith([{ transition: 'stop', jobStatus: 'succeeded' }]);
    const res = await logs(task.taskId);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { logs: [], snapshot: true });
  });

  test('paused, pending and initializing tasks read the snapshot', async () => {
    for (const builds of [
      [{ transition: 'stop', jobStatus: 'succeeded' }],
      [{ transition: 'start', jobStatus: 'pending' }],
      [{ transition: 'start', jobStatus: 'running' }],
    ] as BuildRowsOptions[][]) {
      const task = await taskWith(builds);
      await snapshot(task.taskId, {
        format: 'agentapi',
        data: {
          messages: [
            { id: 3, content: 'do it', role: 'user', time: '2026-02-03T04:00:00Z' },
            { id: 4, content: 'done', role: 'agent', time: '2026-02-03T04:01:00.5Z' },
          ],
        },
      });
      const res = await logs(task.taskId);
      assert.equal(res.status, 200, JSON.stringify(builds));
      assert.deepEqual(res.body, {
        logs: [
          { id: 3, content: 'do it', type: 'input', time: '2026-02-03T04:00:00Z' },
          { id: 4, content: 'done', type: 'output', time: '2026-02-03T04:01:00.5Z' },
        ],
        snapshot: true,
        snapshot_at: '2026-02-03T04:05:06Z',
      });
    }
  });

  test('a bad snapshot is a 500 naming what is wrong', async () => {
    const cases: [unknown, Record<string, string>][] = [
      [{ format: 'agentapi', data: 'oops' }, { message: 'Internal error decoding task snapshot.' }],
      [{ format: 'other', data: { messages: [] } }, { message: 'Unsupported task snapshot format.', detail: 'Expected format "other"' }],
      [{ format: 'agentapi', data: { messages: [{ id: 1, content: 'x', role: 'robot', time: '2026-01-01T00:00:00Z' }] } }, { message: 'Invalid snapshot data.' }],
    ];
    for (const [envelope, expected] of cases) {
      const task = await taskWith([{ transition: 'stop', jobStatus: 'succeeded' }]);
      await snapshot(task.taskId, envelope);
      const res = await logs(task.taskId);
      assert.equal(res.status, 500, JSON.stringify(envelope));
      assert.equal(res.body.message, expected.message);
    }
    const other = await taskWith([{ transition: 'stop', jobStatus: 'succeeded' }]);
    await snapshot(other.taskId, { format: 'other', data: { messages: [] } });
    assert.equal((await logs(other.taskId)).body.detail, 'Expected format "agentapi", got "other".');
  });

  test('beyond Coder: the whole stored conversation wins over the snapshot', async () => {
    const task = await taskWith([{ transition: 'stop', jobStatus: 'succeeded' }]);
    await snapshot(task.taskId, { format: 'agentapi', data: { messages: [{ id: 9, content: 'tail only', role: 'agent', time: '2026-01-01T00:00:00Z' }] } });
    for (const [id, role, content, time] of [
      [0, 'agent', 'hello', '2026-01-01T00:00:00Z'],
      [1, 'user', 'work', '2026-01-01T00:00:01Z'],
      [2, 'agent', 'ok', '2026-01-01T00:00:02Z'],
    ] as const) {
      await sql(stack, 'insert into task_messages (task_id, message_id, role, content, time) values (?, ?, ?, ?, ?)', [
        task.taskId,
        id,
        role,
        content,
        time,
      ]);
    }
    const res = await logs(task.taskId);
    assert.deepEqual(res.body, {
      logs: [
        { id: 0, content: 'hello', type: 'output', time: '2026-01-01T00:00:00Z' },
        { id: 1, content: 'work', type: 'input', time: '2026-01-01T00:00:01Z' },
        { id: 2, content: 'ok', type: 'output', time: '2026-01-01T00:00:02Z' },
      ],
      snapshot: true,
      snapshot_at: '2026-01-01T00:00:02Z',
    });
  });

  test('error and unknown tasks: 409', async () => {
    for (const [builds, status] of [
      [[{ transition: 'start', jobStatus: 'failed' }], 'error'],
      [[{ transition: 'delete', jobStatus: 'pending' }], 'unknown'],
    ] as [BuildRowsOptions[], string][]) {
      const task = await taskWith(builds);
      const res = await logs(task.taskId);
      assert.equal(res.status, 409);
      assert.deepEqual(res.body, { message: 'Cannot fetch logs for task in current state.', detail: `Task status is "${status}".` });
    }
  });
});
