import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  makeContinueAsNewFunc,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  agentReportSignal,
  BuildReason,
  createTaskUpdate,
  deleteTaskUpdate,
  pauseTaskUpdate,
  queuedInputsSignal,
  resumeTaskUpdate,
  TASK_SEARCH_KEYS,
  TaskFailure,
  taskViewQuery,
  type AdoptTaskInput,
  type BuildRequest,
  type TaskWorkflowInput,
} from './contracts';
import { asBusinessFailure } from './failures';
import { TaskRun } from './task-run';
import { autoPause, autoPauseDelayMs, deliverQueuedInput, requestBuild, runBuild, settle } from './task-steps';
import { buildInFlight, newMemory, type TaskOperation } from './task-state';
import type { AppStatusState } from '../domain/task-status';

// One long-lived entity workflow per task (id: taskWorkflowId(taskId)). It serialises every change
// of the task: create, pause, resume and delete arrive as updates whose validators apply the state
// machine synchronously, whose handlers durably write the new build and answer at once, and whose
// builds the main loop then carries to their end. Agent reports arrive as signals.

/** History length past which a run continues as new (the server also suggests it on its own). */
const HISTORY_LIMIT = 2_000;

const OPERATIONS = {
  pause: { transition: 'stop', reason: BuildReason.manualPause, notify: { kind: 'paused', pauseReason: 'manual' } },
  resume: { transition: 'start', reason: BuildReason.resume, notify: { kind: 'resumed' } },
  delete: { transition: 'delete', reason: BuildReason.deleteViaTasksApi, notify: null },
} as const;

function checkRequest(req: BuildRequest | undefined): void {
  if (!req || typeof req.initiatorId !== 'string' || req.initiatorId === '') {
    throw ApplicationFailure.create({ type: 'InvalidRequest', message: 'initiatorId is required', nonRetryable: true });
  }
}

/** The task workflow every task starts with (TASK_WORKFLOW_TYPE). */
export async function leanTaskWorkflow(start: TaskWorkflowInput | AdoptTaskInput): Promise<void> {
  return runTask(start, true);
}

/**
 * The type tasks started with before the lean one: its runs (and their continuations as new) keep
 * running, and replay, as they began. Remove it once no such run is open.
 */
export async function taskWorkflow(start: TaskWorkflowInput | AdoptTaskInput): Promise<void> {
  return runTask(start, false);
}

async function runTask(start: TaskWorkflowInput | AdoptTaskInput, lean: boolean): Promise<void> {
  const run = new TaskRun(start.taskId, lean);
  registerHandlers(run);

  // the task's records: carried over from the previous run, written (create), or read (adopt)
  const input = 'adopt' in start ? await adoptedInput(run, start) : start;
  if (input?.carried) {
    const memory = newMemory(input.carried.records);
    memory.lastWorkingAtMs = input.carried.lastWorkingAt === null ? null : Date.parse(input.carried.lastWorkingAt);
    memory.lastAppState = input.carried.lastAppState as AppStatusState | null;
    run.ownerId = input.ownerId;
    run.adopt(memory, input.carried.settling);
  } else if (input) {
    run.ownerId = input.ownerId;
    nameTheRun(input);
    run.startRequestedAtMs = Date.now();
    try {
      const create = run.lean ? run.writes.createTaskAndBeginBuild : run.writes.createTaskRecords;
      run.adopt(newMemory(await create.executeWithOptions({ summary: `task ${input.name}` }, [input])));
    } catch (err) {
      run.fail(asBusinessFailure(err));
    }
  }

  const historyLimit = input?.historyLimit ?? HISTORY_LIMIT;
  const shouldContinueAsNew = () => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > historyLimit;
  };
  while (!run.finished()) {
    if (run.in('reserving')) {
      // an update is writing its build; the loop picks it up from the queue once it is written
      await condition(() => !run.in('reserving'));
      continue;
    }
    if (run.in('settling')) {
      await settle(run);
      continue;
    }
    const next = run.queue.shift();
    if (next) {
      await runBuild(run, next);
      continue;
    }
    if (run.reportsUnread) {
      await run.readReports();
      continue;
    }
    if (run.deliveryWanted && run.in('idle')) {
      await deliverQueuedInput(run);
      continue;
    }
    if (input && shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      if (run.queue.length === 0 && !run.in('reserving')) {
        await makeContinueAsNewFunc<typeof taskWorkflow>({ typedSearchAttributes: workflowInfo().typedSearchAttributes })({
          ...input,
          carried: run.carried(),
        });
      }
      continue;
    }
    // idle, or a failed delete waiting for another: an update, a report or the idle timeout wakes it
    const waiting = run.phase;
    const wake = () => !run.in(waiting) || run.queue.length > 0 || run.reportsUnread || run.deliveryWanted || shouldContinueAsNew();
    const delay = earliest(autoPauseDelayMs(run), run.deliveryRetryAtMs === null ? null : Math.max(0, run.deliveryRetryAtMs - Date.now()));
    if (delay === null) {
      await condition(wake);
    } else if (delay > 0 && (await condition(wake, delay))) {
      continue;
    } else if (autoPauseDelayMs(run) === 0) {
      // reports that pushed the deadline back arrive without waking the loop; re-checked here
      await autoPause(run);
    } else if (run.deliveryRetryAtMs !== null && run.deliveryRetryAtMs <= Date.now()) {
      run.deliveryRetryAtMs = null;
      run.deliveryWanted = true;
    }
  }
  await condition(allHandlersFinished);
  run.publish();
}

/** The sooner of two optional delays. */
function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.min(a, b);
}

/** Every handler is registered before the first await: update-with-start delivers the create update in the very first workflow task. */
function registerHandlers(run: TaskRun): void {
  setHandler(
    createTaskUpdate,
    async () => {
      await condition(() => run.loaded);
      if (run.failure) throw run.failure;
      return run.mem().records.created;
    },
    { description: 'Create the task: its records, and build 1 (start)' },
  );
  const operate = (op: TaskOperation) => async (req: BuildRequest) => {
    if (!run.loaded) await condition(() => run.loaded);
    const o = OPERATIONS[op];
    const viaWorkspace = req.viaWorkspace === true;
    return requestBuild(run, {
      op,
      transition: o.transition,
      reason: viaWorkspace ? BuildReason.initiator : o.reason,
      notify: viaWorkspace ? null : o.notify,
      initiatorId: req.initiatorId,
      requestId: req.requestId,
      orphan: req.orphan,
    });
  };
  const validate = (op: TaskOperation) => (req: BuildRequest) => {
    checkRequest(req);
    run.assertAllowed(op);
  };
  setHandler(pauseTaskUpdate, operate('pause'), { validator: validate('pause'), description: 'Stop the workspace (reason task_manual_pause)' });
  setHandler(resumeTaskUpdate, operate('resume'), { validator: validate('resume'), description: 'Start the workspace (reason task_resume)' });
  setHandler(deleteTaskUpdate, operate('delete'), { validator: validate('delete'), description: 'Delete the workspace and the task' });
  setHandler(agentReportSignal, (report) => run.onReport(report));
  setHandler(queuedInputsSignal, () => {
    run.deliveryWanted = true;
  });
  setHandler(taskViewQuery, () => ({
    phase: run.label(),
    latestBuildNumber: run.memory?.records.latestBuild.buildNumber ?? 0,
    buildActive: run.phase === 'reserving' || (run.memory !== null && buildInFlight(run.memory.records.latestBuild)),
  }));
}

/** A task whose workflow had ended (or never ran): its start arguments come from its records. */
async function adoptedInput(run: TaskRun, start: AdoptTaskInput): Promise<TaskWorkflowInput | null> {
  const input = await run.writes.loadTaskInput.executeWithOptions({ summary: 'adopt task' }, [{ taskId: start.taskId }]);
  if (!input) run.fail(ApplicationFailure.create({ type: TaskFailure.taskDeleted, message: 'The task has no workspace to manage.', nonRetryable: true }));
  return input;
}

/** Search attributes that identify the task, when the starter did not set them already. */
function nameTheRun(input: TaskWorkflowInput): void {
  const current = workflowInfo().typedSearchAttributes;
  const missing = [
    { key: TASK_SEARCH_KEYS.taskId, value: input.taskId },
    { key: TASK_SEARCH_KEYS.ownerName, value: input.ownerName },
    { key: TASK_SEARCH_KEYS.templateName, value: input.templateName },
  ].filter((p) => current.get(p.key) === undefined);
  if (missing.length > 0) upsertSearchAttributes(missing);
}
