import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startTestStack, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { NOTIFICATION_TEMPLATES } from '../../domain/app-status';
import {
  BuildReason,
  TASK_SEARCH_KEYS,
  TaskFailure,
  deleteTaskUpdate,
  pauseTaskUpdate,
  resumeTaskUpdate,
  taskViewQuery,
} from '../../workflows/contracts';
import {
  buildsOf,
  createTask,
  handleOf,
  notificationsOf,
  operate,
  readTask,
  rows,
  searchAttribute,
  seedOwner,
  seedVersion,
  taskInput,
  waitForStatus,
  type Seed,
} from './support';

/** The ApplicationFailure type an update was rejected with. */
async function rejection(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowUpdateFailedError, `expected an update failure, got ${err}`);
    let cause: unknown = err.cause;
    while (cause instanceof Error && !(cause instanceof ApplicationFailure && cause.type)) cause = cause.cause;
    return (cause as ApplicationFailure | undefined)?.type ?? undefined;
  }
  assert.fail('the update was accepted');
}

describe('task workflow lifecycle (echo provisioner)', () => {
  let stack: TestStack;
  let seed: Seed;
  let version: string;

  before(async () => {
    stack = await startTestStack();
    seed = await seedOwner(stack);
    version = await seedVersion(stack, seed);
  });
  after(async () => {
    await stack?.close();
  });

  it('create → build 1 succeeds → active, with agent and app recorded and search attributes set', async () => {
    const input = taskInput(seed, version);
    const created = await createTask(stack, input);
    assert.equal(created.taskId, input.taskId);
    assert.equal(created.workspaceId, input.workspaceId);
    // the records exist as soon as the create update answers
    const [build1] = await buildsOf(stack, input.workspaceId);
    assert.equal(build1?.id, created.buildId);
    assert.equal(build1?.transition, 'start');
    assert.equal(build1?.reason, 'initiator');

    const task = await waitForStatus(stack, input.taskId, 'active');
    assert.equal(task.workspace_build_number, 1);
    assert.ok(task.workspace_agent_id, 'the agent is recorded for build 1');
    assert.ok(task.workspace_app_id, 'the task app is recorded for build 1');
    assert.equal(task.workspace_agent_lifecycle_state, 'ready');
    assert.equal(task.workspace_app_health, 'healthy');
    const [app] = await rows(stack, 'select slug from workspace_apps where id = ?', [task.workspace_app_id]);
    assert.equal(app.slug, 'agent');

    await waitFor(async () => (await searchAttribute(stack, input.taskId, 'taskStatus')) === 'active', { what: 'TaskStatus=active' });
    assert.equal(await searchAttribute(stack, input.taskId, 'taskId'), input.taskId);
    assert.equal(await searchAttribute(stack, input.taskId, 'ownerName'), seed.username);
    assert.equal(await searchAttribute(stack, input.taskId, 'templateName'), seed.templateName);
    // what an operator types into the Temporal UI
    const query = `TaskStatus = "active" AND TaskId = "${input.taskId}" AND OwnerName = "${seed.username}"`;
    await waitFor(
      async () => {
        for await (const w of stack.temporal.workflow.list({ query })) return w.workflowId === `task-${input.taskId}`;
        return false;
      },
      { what: 'the task found by a visibility query' },
    );
  });

  it('pause → paused, resume → active, delete → soft-deleted and the workflow completes', async () => {
    const input = taskInput(seed, version);
    await createTask(stack, input);
    await waitForStatus(stack, input.taskId, 'active');
    const req = { initiatorId: seed.userId, requestId: 'req-1' };

    const pause = await operate(stack, input.taskId, pauseTaskUpdate, req);
    assert.equal(pause.buildNumber, 2);
    const [, b2] = await buildsOf(stack, input.workspaceId);
    assert.equal(b2?.id, pause.buildId, 'the build row exists when the update answers');
    assert.equal(b2?.transition, 'stop');
    assert.equal(b2?.reason, BuildReason.manualPause);
    await waitForStatus(stack, input.taskId, 'paused');

    const resume = await operate(stack, input.taskId, resumeTaskUpdate, req);
    assert.equal(resume.buildNumber, 3);
    const task = await waitForStatus(stack, input.taskId, 'active');
    assert.equal(task.workspace_build_number, 3);
    assert.equal((await buildsOf(stack, input.workspaceId))[2]?.reason, BuildReason.resume);

    const del = await operate(stack, input.taskId, deleteTaskUpdate, req);
    assert.equal(del.buildNumber, 4);
    // gone for readers at once (§3.5), and the workflow ends after the delete build
    assert.equal(await readTask(stack, input.taskId), null);
    await handleOf(stack, input.taskId).result();
    const builds = await buildsOf(stack, input.workspaceId);
    assert.deepEqual(
      builds.map((b) => [b.build_number, b.transition, b.job_status]),
      [[1, 'start', 'succeeded'], [2, 'stop', 'succeeded'], [3, 'start', 'succeeded'], [4, 'delete', 'succeeded']],
    );
    const [t] = await rows(stack, 'select deleted_at from tasks where id = ?', [input.taskId]);
    assert.ok(t.deleted_at, 'task soft-deleted');
    const [w] = await rows(stack, 'select deleted from workspaces where id = ?', [input.workspaceId]);
    assert.equal(w.deleted, true);
    assert.equal(await searchAttribute(stack, input.taskId, 'taskStatus'), 'deleted');

    const notes = (await notificationsOf(stack, seed.userId)).filter((n) => n.labels.task_id === input.taskId);
    assert.deepEqual(
      notes.map((n) => [n.template_id, n.dedupe_key, n.labels.pause_reason]),
      [
        [NOTIFICATION_TEMPLATES.task_paused.id, `task_paused:${pause.buildId}`, 'manual'],
        [NOTIFICATION_TEMPLATES.task_resumed.id, `task_resumed:${resume.buildId}`, undefined],
      ],
    );
    assert.deepEqual(notes[0]!.labels, { task: input.name, task_id: input.taskId, workspace: input.name, pause_reason: 'manual' });
  });

  it('rejects conflicting operations with the spec failures', async () => {
    const slow = await seedVersion(stack, seed, { echo: { delay_ms: 700 } });
    const input = taskInput(seed, slow);
    await createTask(stack, input);
    const req = { initiatorId: seed.userId };
    // build 1 is still pending/running
    assert.equal(await rejection(operate(stack, input.taskId, pauseTaskUpdate, req)), TaskFailure.buildActive);
    assert.equal(await rejection(operate(stack, input.taskId, deleteTaskUpdate, req)), TaskFailure.buildActive);
    const view = await handleOf(stack, input.taskId).query(taskViewQuery);
    assert.equal(view.buildActive, true);

    await waitForStatus(stack, input.taskId, 'active');
    assert.equal(await rejection(operate(stack, input.taskId, resumeTaskUpdate, req)), TaskFailure.workspaceRunning);

    // two pauses racing: exactly one gets build 2, the other BuildActive
    const results = await Promise.allSettled([
      operate(stack, input.taskId, pauseTaskUpdate, req),
      operate(stack, input.taskId, pauseTaskUpdate, req),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal(await rejection(Promise.reject(failed.reason)), TaskFailure.buildActive);
    await waitForStatus(stack, input.taskId, 'paused');

    // pause is not idempotent-checked (§10): a paused task gets another stop build
    const again = await operate(stack, input.taskId, pauseTaskUpdate, req);
    assert.equal(again.buildNumber, 3);
    await waitForStatus(stack, input.taskId, 'paused');

    await operate(stack, input.taskId, deleteTaskUpdate, req);
    assert.equal(await rejection(operate(stack, input.taskId, resumeTaskUpdate, req)), TaskFailure.taskDeleted);
    await handleOf(stack, input.taskId).result();
    assert.equal((await buildsOf(stack, input.workspaceId)).length, 4);
  });

  it('a failing start build leaves the task in error with the provisioner message', async () => {
    const failing = await seedVersion(stack, seed, { echo: { delay_ms: 200, fail: ['start'] } });
    const input = taskInput(seed, failing);
    await createTask(stack, input);
    await waitForStatus(stack, input.taskId, 'error');
    const [b1] = await buildsOf(stack, input.workspaceId);
    assert.equal(b1?.job_status, 'failed');
    assert.match(b1?.job_error ?? '', /start fails/);
    await waitFor(async () => (await searchAttribute(stack, input.taskId, 'taskStatus')) === 'error', { what: 'TaskStatus=error' });
    // a failed workspace may be resumed (§3.9: only "running" refuses)
    const resumed = await operate(stack, input.taskId, resumeTaskUpdate, { initiatorId: seed.userId });
    assert.equal(resumed.buildNumber, 2);
    await waitForStatus(stack, input.taskId, 'error');
  });

  it('a name already taken fails create with NameTaken and ends the workflow', async () => {
    const first = taskInput(seed, version);
    await createTask(stack, first);
    const second = taskInput(seed, version, { name: first.name.toUpperCase() });
    assert.equal(await rejection(createTask(stack, second)), TaskFailure.nameTaken);
    await handleOf(stack, second.taskId).result();
    assert.equal((await rows(stack, 'select id from tasks where id = ?', [second.taskId])).length, 0);
    assert.equal((await rows(stack, 'select id from workspaces where id = ?', [second.workspaceId])).length, 0);
  });

  it('continues as new when the history grows, carrying its state and search attributes', async () => {
    const input = taskInput(seed, version, { historyLimit: 40 });
    await createTask(stack, input);
    await waitForStatus(stack, input.taskId, 'active');
    const handle = handleOf(stack, input.taskId);
    const firstRun = (await handle.describe()).runId;
    const req = { initiatorId: seed.userId };
    for (let i = 0; i < 3; i++) {
      await operate(stack, input.taskId, pauseTaskUpdate, req);
      await waitForStatus(stack, input.taskId, 'paused');
      await operate(stack, input.taskId, resumeTaskUpdate, req);
      await waitForStatus(stack, input.taskId, 'active');
    }
    const d = await waitFor(async () => {
      const x = await handle.describe();
      return x.runId !== firstRun && x.status.name === 'RUNNING' ? x : null;
    }, { what: 'a continued run' });
    assert.equal((await stack.temporal.workflow.getHandle(d.workflowId, firstRun).describe()).status.name, 'CONTINUED_AS_NEW');
    assert.equal(d.typedSearchAttributes.get(TASK_SEARCH_KEYS.taskId), input.taskId);
    assert.equal(d.typedSearchAttributes.get(TASK_SEARCH_KEYS.ownerName), seed.username);
    // the continued run knows the task: build numbers go on, the state machine still applies
    assert.equal(await rejection(operate(stack, input.taskId, resumeTaskUpdate, req)), TaskFailure.workspaceRunning);
    const next = await operate(stack, input.taskId, pauseTaskUpdate, req);
    assert.equal(next.buildNumber, 8);
    await waitForStatus(stack, input.taskId, 'paused');
    assert.equal((await buildsOf(stack, input.workspaceId)).length, 8);
    assert.equal((await handle.query(taskViewQuery)).latestBuildNumber, 8);
  });

  it('builds of a workspace bound to a host run on that host\'s task queue', async () => {
    const slow = await seedVersion(stack, seed, { echo: { delay_ms: 500 } });
    const input = taskInput(seed, slow);
    await createTask(stack, input);
    // what the process driver reports for the first start: the workspace now lives on this host
    const hostId = stack.config.worker.hostId!;
    await rows(stack, 'update workspaces set host_id = ? where id = ?', [hostId, input.workspaceId]);
    await waitForStatus(stack, input.taskId, 'active');
    await operate(stack, input.taskId, pauseTaskUpdate, { initiatorId: seed.userId });
    await waitForStatus(stack, input.taskId, 'paused');
    const queues: string[] = [];
    for (const e of (await handleOf(stack, input.taskId).fetchHistory()).events ?? []) {
      const a = e.activityTaskScheduledEventAttributes;
      if (a?.activityType?.name === 'provisionWorkspace') queues.push(a.taskQueue?.name ?? '');
    }
    assert.deepEqual(queues, [stack.config.temporal.taskQueue, `${stack.config.temporal.taskQueue}@${hostId}`]);
  });

  it('ten concurrent creates of one task make one task, one workspace and one build', async () => {
    const input = taskInput(seed, version, { idempotencyKey: 'same-key' });
    const results = await Promise.all(Array.from({ length: 10 }, () => createTask(stack, input)));
    assert.equal(new Set(results.map((r) => JSON.stringify(r))).size, 1);
    assert.equal((await rows(stack, 'select id from tasks where owner_id = ? and idempotency_key = ?', [seed.userId, 'same-key'])).length, 1);
    await waitForStatus(stack, input.taskId, 'active');
    assert.equal((await buildsOf(stack, input.workspaceId)).length, 1);
  });
});
