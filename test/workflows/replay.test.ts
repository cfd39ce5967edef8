import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startTestStack, type TestStack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { assertReplays, RECORDED_HISTORIES, recordedHistories } from '../helpers/replay';
import { workerMetrics } from '../../worker/metrics';
import { agentReportSignal, deleteTaskUpdate, queuedInputsSignal, pauseTaskUpdate, resumeTaskUpdate, taskViewQuery } from '../../workflows/contracts';
import { createTask, handleOf, operate, readTask, rows, seedOwner, seedVersion, taskInput, waitForStatus } from './support';

// Recorded histories of real task lifecycles are replayed against the current workflow code: a
// change that would make a running task's workflow non-deterministic fails here, not in production.
// Histories named before-read-reported-state--* were recorded before that patch and keep the path
// of runs that began without it in the test; before-lean--* are runs of the older taskWorkflow type
// (activity tasks for every write), which keeps running the runs it started.
// Re-record (after an intended, patched() change) with:
//   TASKD_RECORD_HISTORIES=1 npm test -- test/workflows/replay.test.ts

const HISTORIES = RECORDED_HISTORIES;
const recording = process.env.TASKD_RECORD_HISTORIES === '1';

/** Whether the task's workflow has scheduled an activity of this type, or run it as a local activity. */
async function ran(stack: TestStack, taskId: string, activityType: string): Promise<boolean> {
  const history = await stack.temporal.workflow.getHandle(`task-${taskId}`).fetchHistory();
  return (history.events ?? []).some(
    (e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name === activityType ||
      Object.values(e.markerRecordedEventAttributes?.details ?? {}).some((p) =>
        (p.payloads ?? []).some((d) => Buffer.from(d.data ?? []).toString().includes(`"${activityType}"`)),
      ),
  );
}

async function save(stack: TestStack, name: string, taskId: string, runId?: string): Promise<void> {
  const handle = stack.temporal.workflow.getHandle(`task-${taskId}`, runId);
  const history = await handle.fetchHistory();
  fs.mkdirSync(HISTORIES, { recursive: true });
  fs.writeFileSync(path.join(HISTORIES, `${name}.json`), JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n');
}

describe('task workflow replay', () => {
  it('replays every recorded history without non-determinism', { skip: recording }, async () => {
    const histories = recordedHistories();
    assert.ok(histories.length >= 4, `expected recorded histories in ${RECORDED_HISTORIES}`);
    const bundle = process.env.TASKD_TEST_WORKFLOW_BUNDLE;
    // the workflow's metrics sink, as production workers have it (a replay worker never calls it)
    const source = {
      sinks: workerMetrics().sinks(),
      ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: require.resolve('../../workflows') }),
    };
    await assertReplays(source, histories);
  });

  it('records lifecycle histories', { skip: !recording }, async () => {
    const stack = await startTestStack();
    try {
      const seed = await seedOwner(stack);
      const req = { initiatorId: seed.userId, requestId: 'recorded' };

      // create → active → reports → pause → resume → delete
      const version = await seedVersion(stack, seed);
      const full = taskInput(seed, version, { name: 'recorded-lifecycle' });
      await createTask(stack, full);
      const task = await waitForStatus(stack, full.taskId, 'active');
      const report = { agentId: task.workspace_agent_id!, buildNumber: 1 };
      await handleOf(stack, full.taskId).signal(agentReportSignal, { kind: 'app_status', ...report, appId: task.workspace_app_id!, state: 'working' });
      await handleOf(stack, full.taskId).signal(agentReportSignal, { kind: 'lifecycle', ...report, state: 'ready' });
      await waitFor(() => ran(stack, full.taskId, 'readAgentState'), { what: 'the report read back' });
      await operate(stack, full.taskId, pauseTaskUpdate, req);
      await waitForStatus(stack, full.taskId, 'paused');
      await operate(stack, full.taskId, resumeTaskUpdate, req);
      await waitForStatus(stack, full.taskId, 'active');
      await operate(stack, full.taskId, deleteTaskUpdate, req);
      await handleOf(stack, full.taskId).result();
      await save(stack, 'lifecycle-create-pause-resume-delete', full.taskId);

      // the agent never reports: start_timeout after agent_ready_s
      const silent = await seedVersion(stack, seed, { echo: { agent_lifecycle: 'none' }, timeouts: { agent_ready_s: 1 } });
      const timeout = taskInput(seed, silent, { name: 'recorded-agent-timeout' });
      await createTask(stack, timeout);
      await waitForStatus(stack, timeout.taskId, 'error');
      await operate(stack, timeout.taskId, deleteTaskUpdate, req);
      await handleOf(stack, timeout.taskId).result();
      await save(stack, 'agent-start-timeout', timeout.taskId);

      // the agent reports while the workflow waits for it: each report is read back
      const reporting = await seedVersion(stack, seed, { echo: { agent_lifecycle: 'none' }, timeouts: { agent_ready_s: 120, app_healthy_s: 120 } });
      const settled = taskInput(seed, reporting, { name: 'recorded-settled-by-reports' });
      await createTask(stack, settled);
      const waiting = await waitForStatus(stack, settled.taskId, 'initializing');
      const agentId = await waitFor(async () => (await readTask(stack, settled.taskId))?.workspace_agent_id);
      const appId = waiting.workspace_app_id ?? (await readTask(stack, settled.taskId))!.workspace_app_id!;
      await waitFor(async () => (await handleOf(stack, settled.taskId).query(taskViewQuery)).phase === 'awaiting agent', { what: 'awaiting the agent' });
      await rows(stack, `update workspace_agents set lifecycle_state = 'ready' where id = ?`, [agentId]);
      await handleOf(stack, settled.taskId).signal(agentReportSignal, { kind: 'lifecycle', agentId, buildNumber: 1, state: 'ready' });
      await rows(stack, `update workspace_apps set health = 'healthy' where id = ?`, [appId]);
      await handleOf(stack, settled.taskId).signal(agentReportSignal, { kind: 'app_health', agentId, buildNumber: 1, healths: { [appId]: 'healthy' } });
      await waitForStatus(stack, settled.taskId, 'active');
      await waitFor(async () => (await handleOf(stack, settled.taskId).query(taskViewQuery)).phase === 'idle', { what: 'settled' });
      await operate(stack, settled.taskId, deleteTaskUpdate, req);
      await handleOf(stack, settled.taskId).result();
      await save(stack, 'settled-by-reports', settled.taskId);

      // idle → auto-pause, then a failing resume
      const idle = await seedVersion(stack, seed, { auto_pause: { idle_timeout_s: 1 }, echo: { fail: ['start'] } });
      const paused = taskInput(seed, idle, { name: 'recorded-auto-pause' });
      await createTask(stack, paused);
      await waitForStatus(stack, paused.taskId, 'error');
      const idleOk = await seedVersion(stack, seed, { auto_pause: { idle_timeout_s: 1 } });
      const autoPaused = taskInput(seed, idleOk, { name: 'recorded-auto-pause-ok' });
      await createTask(stack, autoPaused);
      await waitForStatus(stack, autoPaused.taskId, 'paused', 15_000);
      await operate(stack, autoPaused.taskId, deleteTaskUpdate, req);
      await handleOf(stack, autoPaused.taskId).result();
      await operate(stack, paused.taskId, deleteTaskUpdate, req);
      await handleOf(stack, paused.taskId).result();
      await save(stack, 'auto-pause', autoPaused.taskId);
      await save(stack, 'failed-start', paused.taskId);

      // a run that continues as new
      const long = taskInput(seed, version, { name: 'recorded-continue-as-new', historyLimit: 30 });
      await createTask(stack, long);
      await waitForStatus(stack, long.taskId, 'active');
      const firstRun = (await handleOf(stack, long.taskId).describe()).runId;
      for (let i = 0; i < 2; i++) {
        await operate(stack, long.taskId, pauseTaskUpdate, req);
        await waitForStatus(stack, long.taskId, 'paused');
        await operate(stack, long.taskId, resumeTaskUpdate, req);
        await waitForStatus(stack, long.taskId, 'active');
      }
      await waitFor(async () => (await handleOf(stack, long.taskId).describe()).runId !== firstRun, { what: 'continue-as-new' });
      await save(stack, 'continue-as-new-first-run', long.taskId, firstRun);
      assert.ok(await readTask(stack, long.taskId));

      // the name is taken (by the live task above): the create update fails and the workflow ends
      const taken = taskInput(seed, version, { name: long.name });
      await createTask(stack, taken).catch(() => undefined);
      await handleOf(stack, taken.taskId).result();
      await save(stack, 'name-taken', taken.taskId);

      // a delete build that fails keeps the workflow; a retried delete fails again, an orphaning one ends it
      const undeletable = await seedVersion(stack, seed, { echo: { fail: ['delete'] } });
      const stuck = taskInput(seed, undeletable, { name: 'recorded-failed-delete' });
      await createTask(stack, stuck);
      await waitForStatus(stack, stuck.taskId, 'active');
      await operate(stack, stuck.taskId, deleteTaskUpdate, req);
      const failedDelete = (n: number) =>
        waitFor(async () => {
          const view = await handleOf(stack, stuck.taskId).query(taskViewQuery);
          return view.latestBuildNumber === n && !view.buildActive;
        }, { what: `delete build #${n} over` });
      await failedDelete(2);
      await operate(stack, stuck.taskId, deleteTaskUpdate, req);
      await failedDelete(3);
      await operate(stack, stuck.taskId, deleteTaskUpdate, { ...req, orphan: true });
      await handleOf(stack, stuck.taskId).result();
      await save(stack, 'failed-delete-retried-then-orphaned', stuck.taskId);

      // the send queue: an input queued for an app that does not answer is tried, then retried later;
      // paused meanwhile (the next try finds the task inactive), then deleted with the input still queued
      const queueing = taskInput(seed, version, { name: 'recorded-send-queue' });
      await createTask(stack, queueing);
      await waitForStatus(stack, queueing.taskId, 'active');
      await rows(stack, `update workspace_apps set url = 'http://127.0.0.1:9' where agent_id = (select workspace_agent_id from tasks_with_status where id = ?)`, [queueing.taskId]);
      await rows(stack, `insert into task_queued_inputs (id, task_id, input, created_by) values (gen_random_uuid(), ?, 'queued input', ?)`, [queueing.taskId, seed.userId]);
      await handleOf(stack, queueing.taskId).signal(queuedInputsSignal);
      await waitFor(() => ran(stack, queueing.taskId, 'deliverQueuedInput'), { what: 'a delivery tried' });
      await operate(stack, queueing.taskId, pauseTaskUpdate, req);
      await waitForStatus(stack, queueing.taskId, 'paused');
      await handleOf(stack, queueing.taskId).signal(queuedInputsSignal);
      await operate(stack, queueing.taskId, deleteTaskUpdate, req);
      await handleOf(stack, queueing.taskId).result();
      await save(stack, 'send-queue', queueing.taskId);
    } finally {
      await stack.close();
    }
  });
});
