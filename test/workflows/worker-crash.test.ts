import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { startTestStack, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { startFixtureWorker } from '../helpers/child-worker';
import { pauseTaskUpdate } from '../../workflows/contracts';
import { buildsOf, createTask, notificationsOf, operate, rows, seedOwner, seedVersion, taskInput, waitForStatus } from './support';

// Exactly one build per transition and one notification per event, even when the worker running
// the builds is SIGKILLed in the middle of them and another worker takes over.

// every worker child this file starts, killed at its end whatever happened: a child left running (one
// whose test failed early) would poll the next test's task queue and, holding, stall its workflows
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

const startChildWorker = (stack: TestStack, env: Record<string, string> = {}) => startFixtureWorker(stack, children, env);

describe('task workflow: worker killed mid-build', () => {
  let stack: TestStack;
  let child: ChildProcess | undefined;

  before(async () => {
    stack = await startTestStack({ worker: false });
  });
  after(async () => {
    child?.kill('SIGKILL');
    await stack?.close();
  });

  it('a worker SIGKILLed inside a local activity, after its writes, leaves them done once', async () => {
    const seed = await seedOwner(stack);
    const version = await seedVersion(stack, seed);
    const task = taskInput(seed, version);
    // created by one worker, paused by another that stops inside reserveBuild
    child = await startChildWorker(stack);
    await createTask(stack, task);
    await waitForStatus(stack, task.taskId, 'active', 20_000);
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    const holding = await startChildWorker(stack, { TASKD_TEST_HOLD_AFTER: 'reserveBuild' });
    child = holding;
    const pause = operate(stack, task.taskId, pauseTaskUpdate, { initiatorId: seed.userId });
    await holding.said('held-after:reserveBuild');
    // the stop build, its notification and its start are written; the workflow has not recorded it
    assert.deepEqual(
      (await buildsOf(stack, task.workspaceId)).map((b) => [b.build_number, b.transition, b.job_status]),
      [[1, 'start', 'succeeded'], [2, 'stop', 'running']],
    );
    holding.kill('SIGKILL');
    await new Promise((r) => holding.once('exit', r));
    child = undefined;

    // another worker runs reserveBuild again: it finds the build by its operation key
    const startOwn = await stack.stopWorker();
    await startOwn();
    try {
      const stop = await pause;
      await waitForStatus(stack, task.taskId, 'paused', 40_000);
      const builds = await buildsOf(stack, task.workspaceId);
      assert.deepEqual(
        builds.map((b) => [b.build_number, b.transition, b.job_status]),
        [[1, 'start', 'succeeded'], [2, 'stop', 'succeeded']],
      );
      assert.equal(builds[1]!.id, stop.buildId);
      const notes = await notificationsOf(stack, seed.userId);
      assert.deepEqual(notes.map((n) => n.dedupe_key), [`task_paused:${stop.buildId}`]);
    } finally {
      await stack.stopWorker();
    }
  });

  it('a SIGKILLed worker is replaced and every build and notification happens exactly once', async () => {
    const seed = await seedOwner(stack);
    const slow = await seedVersion(stack, seed, { echo: { delay_ms: 2_500 } });
    child = await startChildWorker(stack);

    const paused = taskInput(seed, slow);
    await createTask(stack, paused);
    await waitForStatus(stack, paused.taskId, 'active', 20_000);

    // one task in the middle of its start build, another in the middle of its stop build
    const started = taskInput(seed, slow);
    await createTask(stack, started);
    const stop = await operate(stack, paused.taskId, pauseTaskUpdate, { initiatorId: seed.userId });
    await waitFor(
      async () => {
        const running = await rows(
          stack,
          `select count(*)::int as n from workspace_builds where job_status = 'running' and workspace_id in (?, ?)`,
          [started.workspaceId, paused.workspaceId],
        );
        return running[0].n === 2;
      },
      { what: 'both builds running' },
    );
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;

    const startWorker = await stack.stopWorker();
    await startWorker();
    await waitForStatus(stack, started.taskId, 'active', 40_000);
    await waitForStatus(stack, paused.taskId, 'paused', 40_000);

    assert.deepEqual(
      (await buildsOf(stack, started.workspaceId)).map((b) => [b.build_number, b.transition, b.job_status]),
      [[1, 'start', 'succeeded']],
    );
    assert.deepEqual(
      (await buildsOf(stack, paused.workspaceId)).map((b) => [b.build_number, b.transition, b.job_status]),
      [[1, 'start', 'succeeded'], [2, 'stop', 'succeeded']],
    );
    const agents = await rows(stack, 'select count(*)::int as n from workspace_agents a join workspace_builds b on b.id = a.build_id where b.workspace_id = ?', [
      started.workspaceId,
    ]);
    assert.equal(agents[0].n, 1);
    const apps = await rows(stack, 'select slug from workspace_apps a join workspace_agents g on g.id = a.agent_id join workspace_builds b on b.id = g.build_id where b.workspace_id = ? order by slug', [
      started.workspaceId,
    ]);
    assert.deepEqual(apps.map((a) => a.slug), ['agent', 'sidecar']);
    const notes = await notificationsOf(stack, seed.userId);
    assert.deepEqual(notes.map((n) => n.dedupe_key), [`task_paused:${stop.buildId}`]);
  });
});
