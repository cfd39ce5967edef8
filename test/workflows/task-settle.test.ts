import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { NOTIFICATION_TEMPLATES } from '../../domain/app-status';
import { agentReportSignal, BuildReason, taskViewQuery } from '../../workflows/contracts';
import {
  buildsOf,
  createTask,
  handleOf,
  notificationsOf,
  readTask,
  rows,
  searchAttribute,
  seedOwner,
  seedVersion,
  taskInput,
  waitForStatus,
  type Seed,
} from './support';

// After a start build the workflow waits for the agent and the task app, bounded by the template's
// timeouts; then, with auto_pause, it pauses a task whose agent stopped reporting `working`.

describe('task workflow: settling and auto-pause', () => {
  let stack: TestStack;
  let seed: Seed;

  before(async () => {
    stack = await startTestStack();
    seed = await seedOwner(stack);
  });
  after(async () => {
    await stack?.close();
  });

  it('an agent that never becomes ready ends in start_timeout with a message, and the task in error', async () => {
    // long enough for a loaded machine's polls to see `initializing` before the timeout ends it
    const version = await seedVersion(stack, seed, { echo: { agent_lifecycle: 'none' }, timeouts: { agent_ready_s: 5, app_healthy_s: 60 } });
    const input = taskInput(seed, version);
    await createTask(stack, input);
    await waitForStatus(stack, input.taskId, 'initializing');
    const task = await waitForStatus(stack, input.taskId, 'error');
    assert.equal(task.workspace_agent_lifecycle_state, 'start_timeout');
    assert.equal(task.workspace_app_health, 'unhealthy');
    const [agent] = await rows(stack, 'select start_error from workspace_agents where id = ?', [task.workspace_agent_id]);
    assert.match(agent.start_error, /agent did not become ready within 5 s/);
    // the message reaches current_state through a failure app status of the task app
    const statuses = await rows(stack, 'select state, message, app_id from workspace_app_statuses where workspace_id = ?', [input.workspaceId]);
    assert.equal(statuses.length, 1);
    assert.equal(statuses[0].state, 'failure');
    assert.equal(statuses[0].app_id, task.workspace_app_id);
    assert.match(statuses[0].message, /did not become ready within 5 s/);
    await waitFor(async () => (await searchAttribute(stack, input.taskId, 'taskStatus')) === 'error', { what: 'TaskStatus=error' });
  });

  it('a task app that never turns healthy is marked unhealthy after app_healthy_s', async () => {
    const version = await seedVersion(stack, seed, { echo: { app_health: 'initializing' }, timeouts: { app_healthy_s: 1 } });
    const input = taskInput(seed, version);
    await createTask(stack, input);
    const task = await waitForStatus(stack, input.taskId, 'error');
    assert.equal(task.workspace_agent_lifecycle_state, 'ready');
    assert.equal(task.workspace_app_health, 'unhealthy');
    const [status] = await rows(stack, 'select message from workspace_app_statuses where workspace_id = ?', [input.workspaceId]);
    assert.match(status.message, /task app did not become healthy within 1 s/);
  });

  it('agent reports (stored, then signalled) settle the task without waiting for the timeout', async () => {
    const version = await seedVersion(stack, seed, { echo: { agent_lifecycle: 'none' }, timeouts: { agent_ready_s: 120, app_healthy_s: 120 } });
    const input = taskInput(seed, version);
    await createTask(stack, input);
    const task = await waitForStatus(stack, input.taskId, 'initializing');
    const agentId = await waitFor(async () => (await readTask(stack, input.taskId))?.workspace_agent_id);
    const appId = (await readTask(stack, input.taskId))!.workspace_app_id!;
    assert.equal(task.build_job_status === 'running' || task.build_job_status === 'succeeded', true);
    const handle = handleOf(stack, input.taskId);
    await waitFor(async () => (await handle.query(taskViewQuery)).phase === 'awaiting agent', { what: 'workflow awaiting the agent' });

    // what the agent routes do: store, then signal
    await rows(stack, `update workspace_agents set lifecycle_state = 'ready' where id = ?`, [agentId]);
    await handle.signal(agentReportSignal, { kind: 'lifecycle', agentId, buildNumber: 1, state: 'ready' });
    await waitFor(async () => (await handle.query(taskViewQuery)).phase === 'awaiting app', { what: 'workflow awaiting the app' });
    await rows(stack, `update workspace_apps set health = 'healthy' where id = ?`, [appId]);
    await handle.signal(agentReportSignal, { kind: 'app_health', agentId, buildNumber: 1, healths: { [appId]: 'healthy' } });

    await waitForStatus(stack, input.taskId, 'active');
    await waitFor(async () => (await searchAttribute(stack, input.taskId, 'taskStatus')) === 'active', { what: 'TaskStatus=active' });
    assert.equal((await handle.query(taskViewQuery)).phase, 'idle');
    const [agent] = await rows(stack, 'select lifecycle_state, start_error from workspace_agents where id = ?', [agentId]);
    assert.deepEqual(agent, { lifecycle_state: 'ready', start_error: null });
  });

  it('auto-pauses an idle task after idle_timeout_s; working reports push the deadline back', async () => {
    // the idle window is several times the gaps between the reports below, so the agent stays busy
    // however slow the machine; the pause is then checked against when the last report was sent
    const idleS = 4;
    const version = await seedVersion(stack, seed, { auto_pause: { idle_timeout_s: idleS } });
    const input = taskInput(seed, version);
    await createTask(stack, input);
    const task = await waitForStatus(stack, input.taskId, 'active');
    const handle = handleOf(stack, input.taskId);
    const report = (state: string) =>
      handle.signal(agentReportSignal, {
        kind: 'app_status',
        agentId: task.workspace_agent_id!,
        buildNumber: 1,
        appId: task.workspace_app_id!,
        state,
      });
    // keep the agent busy for a while: no pause may come before idleS after the last working report
    let lastWorking = 0;
    for (let i = 0; i < 3; i++) {
      await report('working');
      lastWorking = Date.now();
      await new Promise((r) => setTimeout(r, 500));
    }
    // taken before the report is sent: the workflow cannot see the report any earlier
    const lastActivity = Date.now();
    await report('idle'); // leaving `working` also counts as activity (§4.2)
    assert.equal((await buildsOf(stack, input.workspaceId)).length, 1, 'no pause while the agent works');

    await waitForStatus(stack, input.taskId, 'paused', 60_000);
    const builds = await buildsOf(stack, input.workspaceId);
    assert.equal(builds.length, 2);
    const stop = builds[1]!;
    assert.equal(stop.transition, 'stop');
    assert.equal(stop.reason, BuildReason.autoPause);
    assert.ok(
      new Date(stop.created_at).getTime() >= lastActivity + idleS * 1000 - 50,
      `paused ${new Date(stop.created_at).getTime() - lastActivity} ms after the last report (working until ${lastWorking})`,
    );
    const [note] = await waitFor(async () => {
      const n = (await notificationsOf(stack, seed.userId)).filter((x) => x.labels.task_id === input.taskId);
      return n.length > 0 ? n : null;
    });
    assert.equal(note!.template_id, NOTIFICATION_TEMPLATES.task_paused.id);
    assert.equal(note!.dedupe_key, `task_paused:${stop.id}`);
    assert.deepEqual(note!.labels, { task: input.name, task_id: input.taskId, workspace: input.name, pause_reason: 'idle timeout' });
    // paused tasks are not paused again
    await new Promise((r) => setTimeout(r, (idleS + 1) * 1000));
    assert.equal((await buildsOf(stack, input.workspaceId)).length, 2);
  });
});
