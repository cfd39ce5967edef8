// A delete retried the moment its failed delete build shows as failed. failBuild commits before the
// workflow learns its outcome, so a reader of the database can retry inside that window; this worker
// holds the first failBuild open after its commit, which makes the window certain instead of a
// matter of timing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowUpdateStage } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { startTestStack, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { createActivities } from '../../activities';
import { createProvisioners } from '../../provisioner';
import { installTemporalRuntime } from '../../worker/temporal-runtime';
import { workerMetrics } from '../../worker/metrics';
import { deleteTaskUpdate } from '../../workflows/contracts';
import { buildsOf, createTask, handleOf, operate, seedOwner, seedVersion, taskInput, waitForStatus } from './support';

/** A promise with its resolver, for one hand-over between the worker and the test. */
function gate(): { opened: Promise<void>; open(): void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('a delete retried while its failed delete build is being recorded', () => {
  let stack: TestStack;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  const committed = gate();
  const release = gate();
  let held = false;

  before(async () => {
    stack = await startTestStack({ worker: false });
    const { config, orm, log } = stack;
    installTemporalRuntime(log);
    const activities = createActivities({ config, orm, log, provisioners: createProvisioners({ config, log }) });
    connection = await NativeConnection.connect({ address: config.temporal.address! });
    worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      workflowBundle: { codePath: process.env.TASKD_TEST_WORKFLOW_BUNDLE! },
      sinks: workerMetrics().sinks(),
      activities: {
        ...activities,
        async failBuild(input: Parameters<typeof activities.failBuild>[0]) {
          await activities.failBuild(input);
          if (held) return;
          held = true;
          committed.open();
          await release.opened;
        },
      },
    });
    running = worker.run();
  });
  after(async () => {
    release.open();
    worker?.shutdown();
    await running?.catch(() => {});
    await connection?.close();
    await stack?.close();
  });

  it('is accepted while failBuild has not returned, and runs once it has', async () => {
    const seed = await seedOwner(stack);
    const version = await seedVersion(stack, seed, { echo: { fail: ['delete'] } });
    const input = taskInput(seed, version);
    await createTask(stack, input);
    await waitForStatus(stack, input.taskId, 'active');

    const request = { initiatorId: seed.userId };
    await operate(stack, input.taskId, deleteTaskUpdate, request);
    await committed.opened;
    const builds = await buildsOf(stack, input.workspaceId);
    assert.deepEqual(builds.map((b) => [b.build_number, b.transition, b.job_status]).at(-1), [2, 'delete', 'failed'], 'a reader sees the delete failed');

    // refused here (as "task deleted") if the workflow decided before learning the build's outcome
    const retry = await handleOf(stack, input.taskId).startUpdate(deleteTaskUpdate, {
      args: [{ ...request, viaWorkspace: true }],
      waitForStage: WorkflowUpdateStage.ACCEPTED,
    });
    release.open();
    assert.equal((await retry.result()).buildNumber, 3);
    await waitFor(
      async () => {
        const last = (await buildsOf(stack, input.workspaceId)).at(-1);
        return last?.build_number === 3 && last.job_status === 'failed';
      },
      { what: 'the retried delete build ran (and failed, as the template asks)' },
    );
  });
});
