import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { addBuild, query, seedTask, type SeededTask } from '../helpers/agent-fixtures';
import { waitFor } from '../helpers/wait';
import { NOTIFICATION_TEMPLATES } from '../../domain/app-status';
import { TASK_WORKFLOW_TYPE, taskWorkflowId } from '../../workflows/contracts';

// The workspace agent's API (spec §4, §7.1), black-box over HTTP against records seeded in the
// database. The upload endpoints (log snapshot, messages) are in agent-uploads.test.ts.

let stack: TestStack;

before(async () => {
  stack = await startTestStack({ worker: false });
});
after(async () => {
  await stack?.close();
});

const me = '/api/v2/workspaceagents/me';
const agentToken = (t: SeededTask, i = 0) => t.builds[i]!.token!;

describe('agent authentication', () => {
  test('a missing or unknown token is 401', async () => {
    assert.equal((await stack.api('GET', `${me}/manifest`)).status, 401);
    const res = await stack.api('GET', `${me}/manifest`, { token: 'not-a-token' });
    assert.equal(res.status, 401);
    assert.equal(typeof res.body.message, 'string');
  });

  test('the routes answer under /api/experimental too', async () => {
    const t = await seedTask(stack.orm);
    const res = await stack.api('GET', '/api/experimental/workspaceagents/me/manifest', { token: agentToken(t) });
    assert.equal(res.status, 200);
  });

  test('an agent of an older build is refused once a newer start build exists', async () => {
    const t = await seedTask(stack.orm);
    await addBuild(stack.orm, t, { transition: 'stop', jobStatus: 'succeeded' });
    await addBuild(stack.orm, t, { transition: 'start', jobStatus: 'succeeded', apps: [{ slug: 'agent' }], aiApp: 'agent' });
    assert.equal((await stack.api('GET', `${me}/manifest`, { token: agentToken(t, 0) })).status, 401);
    const lifecycle = await stack.api('POST', `${me}/report-lifecycle`, { token: agentToken(t, 0), body: { state: 'ready' } });
    assert.equal(lifecycle.status, 401);
    assert.equal((await stack.api('GET', `${me}/manifest`, { token: agentToken(t, 2) })).status, 200);
  });

  test('while a stop build runs the old agent may still report; once it completes, 401', async () => {
    const t = await seedTask(stack.orm);
    const stop = await addBuild(stack.orm, t, { transition: 'stop', jobStatus: 'running' });
    const report = () => stack.api('POST', `${me}/report-lifecycle`, { token: agentToken(t), body: { state: 'shutting_down' } });
    assert.equal((await report()).status, 204);
    await query(stack.orm, `update workspace_builds set job_status = 'succeeded' where id = ?`, [stop.buildId]);
    assert.equal((await report()).status, 401);
  });

  test('after a delete build the agent is refused', async () => {
    const t = await seedTask(stack.orm);
    await addBuild(stack.orm, t, { transition: 'delete', jobStatus: 'succeeded' });
    assert.equal((await stack.api('GET', `${me}/manifest`, { token: agentToken(t) })).status, 401);
  });
});

describe('manifest', () => {
  test('describes the workspace, its apps with ports, env and the task prompt', async () => {
    const t = await seedTask(stack.orm, {
      prompt: 'Summarise the README',
      apps: [
        { slug: 'agent', url: 'http://127.0.0.1:40123', command: 'run-agent', healthcheck: { url: 'http://127.0.0.1:40123/status', interval_s: 2, threshold: 5 } },
        { slug: 'docs', url: 'http://example.test/docs' },
      ],
    });
    const res = await stack.api('GET', `${me}/manifest`, { token: agentToken(t) });
    assert.equal(res.status, 200);
    const m = res.body;
    assert.equal(m.agent_id, t.builds[0]!.agentId);
    assert.equal(m.agent_name, 'main');
    assert.equal(m.workspace_id, t.workspaceId);
    assert.equal(m.workspace_name, t.workspaceName);
    assert.equal(m.owner_name, t.username);
    assert.deepEqual(m.env, { GREETING: 'hello' });
    assert.equal(m.ai_app_slug, 'agent');
    assert.deepEqual(m.task, { id: t.taskId, prompt: 'Summarise the README', conversation_started: false });
    assert.ok(!Number.isNaN(Date.parse(m.server_time)));
    const agentApp = m.apps.find((a: { slug: string }) => a.slug === 'agent');
    assert.deepEqual(agentApp, {
      id: t.builds[0]!.apps.agent,
      slug: 'agent',
      display_name: 'agent',
      url: 'http://127.0.0.1:40123',
      command: 'run-agent',
      port: 40123,
      healthcheck: { url: 'http://127.0.0.1:40123/status', interval_s: 2, threshold: 5 },
    });
    const docs = m.apps.find((a: { slug: string }) => a.slug === 'docs');
    assert.equal(docs.port, null, 'the agent does not start an app without a command');
  });

  test('shows the current prompt and whether the conversation started', async () => {
    const t = await seedTask(stack.orm, { prompt: 'first' });
    await query(stack.orm, 'update tasks set prompt = ? where id = ?', ['edited while paused', t.taskId]);
    let m = (await stack.api('GET', `${me}/manifest`, { token: agentToken(t) })).body;
    assert.equal(m.task.prompt, 'edited while paused');
    assert.equal(m.task.conversation_started, false);
    const now = new Date().toISOString();
    const posted = await stack.api('POST', `${me}/tasks/${t.taskId}/messages`, {
      token: agentToken(t),
      body: { messages: [{ id: 0, role: 'agent', content: 'hi', time: now }, { id: 1, role: 'user', content: 'edited while paused', time: now }] },
    });
    assert.equal(posted.status, 204);
    m = (await stack.api('GET', `${me}/manifest`, { token: agentToken(t) })).body;
    assert.equal(m.task.conversation_started, true);
  });

  test('is not served before the build completed (the agent asks again)', async () => {
    const t = await seedTask(stack.orm);
    await query(stack.orm, `update workspace_builds set job_status = 'running' where id = ?`, [t.builds[0]!.buildId]);
    const res = await stack.api('GET', `${me}/manifest`, { token: agentToken(t) });
    assert.equal(res.status, 503);
  });
});

describe('report-lifecycle', () => {
  const lifecycleOf = async (t: SeededTask) =>
    (await query<{ lifecycle_state: string; start_error: string | null }>(stack.orm, 'select lifecycle_state, start_error from workspace_agents where id = ?', [t.builds[0]!.agentId]))[0]!;

  test('stores valid states, rejects unknown ones, ignores reports older than the stored one', async () => {
    const t = await seedTask(stack.orm);
    const post = (body: unknown) => stack.api('POST', `${me}/report-lifecycle`, { token: agentToken(t), body });
    assert.equal((await post({ state: 'sleeping', changed_at: new Date().toISOString() })).status, 400);
    assert.equal((await post({ state: 'ready', changed_at: 'yesterday' })).status, 400);
    assert.equal((await post({ state: 'starting', changed_at: '2030-01-01T00:00:00Z' })).status, 204);
    assert.equal((await lifecycleOf(t)).lifecycle_state, 'starting');
    assert.equal((await post({ state: 'ready', changed_at: '2030-01-01T00:00:01Z' })).status, 204);
    assert.equal((await post({ state: 'starting', changed_at: '2030-01-01T00:00:00.5Z' })).status, 204);
    assert.equal((await lifecycleOf(t)).lifecycle_state, 'ready');
  });

  test('start_error keeps its reason', async () => {
    const t = await seedTask(stack.orm);
    const res = await stack.api('POST', `${me}/report-lifecycle`, {
      token: agentToken(t),
      body: { state: 'start_error', changed_at: new Date().toISOString(), reason: 'app "agent" exited with code 1' },
    });
    assert.equal(res.status, 204);
    assert.deepEqual(await lifecycleOf(t), { lifecycle_state: 'start_error', start_error: 'app "agent" exited with code 1' });
  });

  test('wakes the task workflow with agentReport after storing a report that moves the task status, and only then', async () => {
    const t = await seedTask(stack.orm);
    // a workflow nobody runs still records the signals it receives in its history
    const handle = await stack.temporal.workflow.start(TASK_WORKFLOW_TYPE, {
      workflowId: taskWorkflowId(t.taskId),
      taskQueue: `unpolled-${t.taskId}`,
      args: [],
    });
    const signals = async () =>
      ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'agentReport').length;
    const report = (state: string) => stack.api('POST', `${me}/report-lifecycle`, { token: agentToken(t), body: { state } });
    try {
      // created → starting, then ready while the task app still initializes: the task stays initializing
      assert.equal((await report('starting')).status, 204);
      assert.equal((await report('ready')).status, 204);
      assert.equal(await signals(), 0, 'reports that leave the task initializing wake nothing');
      // the app turns healthy: the task becomes active, and its workflow hears of it
      const appId = t.builds[0]!.apps.agent!;
      const health = await stack.api('POST', `${me}/app-health`, { token: agentToken(t), body: { healths: { [appId]: 'healthy' } } });
      assert.equal(health.status, 204);
      assert.equal(await signals(), 1);
      // the same health again changes nothing stored
      await stack.api('POST', `${me}/app-health`, { token: agentToken(t), body: { healths: { [appId]: 'healthy' } } });
      assert.equal(await signals(), 1);
    } finally {
      await handle.terminate('test done');
    }
  });
});

describe('app-health', () => {
  test('updates the health of the agent apps; unknown, foreign or healthcheck-less apps are 400', async () => {
    const t = await seedTask(stack.orm, {
      apps: [
        { slug: 'agent', url: 'http://127.0.0.1:9', healthcheck: { url: 'http://127.0.0.1:9/status', interval_s: 1, threshold: 3 } },
        { slug: 'plain', url: 'http://127.0.0.1:9/plain' },
      ],
    });
    const other = await seedTask(stack.orm);
    const post = (healths: Record<string, string>) => stack.api('POST', `${me}/app-health`, { token: agentToken(t), body: { healths } });
    const appId = t.builds[0]!.apps.agent!;
    assert.equal((await post({ [appId]: 'healthy' })).status, 204);
    const [row] = await query<{ health: string }>(stack.orm, 'select health from workspace_apps where id = ?', [appId]);
    assert.equal(row!.health, 'healthy');
    assert.equal((await post({ [appId]: 'fine' })).status, 400);
    assert.equal((await post({ [other.builds[0]!.apps.agent!]: 'healthy' })).status, 400);
    assert.equal((await post({ [t.builds[0]!.apps.plain!]: 'healthy' })).status, 400);
    assert.equal((await post({ 'not-a-uuid': 'healthy' })).status, 400);
  });
});

describe('app-status', () => {
  const patch = (t: SeededTask, body: Record<string, unknown>) => stack.api('PATCH', `${me}/app-status`, { token: agentToken(t), body });

  test('validates the message length in bytes, then the state, then the app', async () => {
    const t = await seedTask(stack.orm, { lifecycle: 'ready' });
    const tooLong = await patch(t, { app_slug: 'agent', state: 'bogus', message: 'é'.repeat(81) });
    assert.equal(tooLong.status, 400);
    assert.deepEqual(tooLong.body, {
      message: 'Message is too long.',
      validations: [{ field: 'message', detail: 'Message must be less than 160 characters.' }],
    });
    const badState = await patch(t, { app_slug: 'nope', state: 'bogus', message: 'é'.repeat(80) });
    assert.equal(badState.status, 400);
    assert.deepEqual(badState.body, {
      message: 'Invalid state provided.',
      validations: [{ field: 'state', detail: 'State must be one of: complete, failure, working, idle.' }],
    });
    const noApp = await patch(t, { app_slug: 'nope', state: 'idle', message: '' });
    assert.equal(noApp.status, 400);
    assert.deepEqual(noApp.body, { message: 'Failed to get workspace app.', detail: 'No app found with slug "nope"' });
  });

  test('stores a sanitised message and an empty uri as null', async () => {
    const t = await seedTask(stack.orm, { lifecycle: 'ready' });
    const res = await patch(t, { app_slug: 'agent', state: 'working', message: '<b>Reading</b>\n\n\x1b[31mfiles</span>  ', uri: '' });
    assert.equal(res.status, 200);
    assert.equal(res.body.message, 'Reading files');
    const [row] = await query<{ state: string; message: string; uri: string | null }>(
      stack.orm,
      'select state, message, uri from workspace_app_statuses where workspace_id = ?',
      [t.workspaceId],
    );
    assert.deepEqual(row, { state: 'working', message: 'Reading files', uri: null });
  });

  const notifications = (t: SeededTask) =>
    query<{ template_id: string; user_id: string; labels: Record<string, string> }>(
      stack.orm,
      'select template_id, user_id, labels from notification_messages where user_id = ? order by created_at',
      [t.userId],
    );

  test('state notifications follow §7.1: not the first working, not a repeat, one per change', async () => {
    const t = await seedTask(stack.orm, { lifecycle: 'ready' });
    for (const state of ['working', 'working', 'idle', 'idle', 'working', 'complete', 'failure']) {
      assert.equal((await patch(t, { app_slug: 'agent', state, message: state })).status, 200);
    }
    const sent = await notifications(t);
    assert.deepEqual(
      sent.map((n) => n.template_id),
      [
        NOTIFICATION_TEMPLATES.task_idle.id,
        NOTIFICATION_TEMPLATES.task_working.id,
        NOTIFICATION_TEMPLATES.task_completed.id,
        NOTIFICATION_TEMPLATES.task_failed.id,
      ],
    );
    for (const n of sent) assert.deepEqual(n.labels, { task: t.taskName, workspace: t.workspaceName });
  });

  test('a first status that is not working is announced', async () => {
    const t = await seedTask(stack.orm, { lifecycle: 'ready' });
    await patch(t, { app_slug: 'agent', state: 'complete', message: 'done' });
    assert.deepEqual((await notifications(t)).map((n) => n.template_id), [NOTIFICATION_TEMPLATES.task_completed.id]);
  });

  test('no notification unless the agent is ready and the app is the task app', async () => {
    const notReady = await seedTask(stack.orm, { lifecycle: 'starting' });
    await patch(notReady, { app_slug: 'agent', state: 'idle', message: '' });
    assert.deepEqual(await notifications(notReady), []);

    const sidecar = await seedTask(stack.orm, {
      lifecycle: 'ready',
      apps: [{ slug: 'agent', url: 'http://127.0.0.1:9' }, { slug: 'helper', url: 'http://127.0.0.1:9/h' }],
      aiApp: 'agent',
    });
    await patch(sidecar, { app_slug: 'helper', state: 'idle', message: '' });
    assert.deepEqual(await notifications(sidecar), []);
  });

  test('a task that no longer exists gets no notification, but the status is stored', async () => {
    const t = await seedTask(stack.orm, { lifecycle: 'ready' });
    await query(stack.orm, 'update tasks set deleted_at = now() where id = ?', [t.taskId]);
    assert.equal((await patch(t, { app_slug: 'agent', state: 'idle', message: '' })).status, 200);
    assert.deepEqual(await notifications(t), []);
    await waitFor(async () => (await query(stack.orm, 'select 1 from workspace_app_statuses where workspace_id = ?', [t.workspaceId])).length === 1);
  });
});
