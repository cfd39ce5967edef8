import { CancellationScope, condition, isCancellation, log, patched, sleep, uuid4, workflowInfo } from '@temporalio/workflow';
import type { StartOutcome } from '../provisioner/driver';
import { BuildReason, type BuildRef, type CompleteBuildInput, type StartTimeoutStage, type TaskNotificationEvent } from './contracts';
import { asBusinessFailure, failureMessage } from './failures';
import { HOST_PICKUP_TIMEOUT, provisioning, records, sideEffects } from './task-activities';
import { SETTLING } from './task-phase';
import { taskMetrics } from './task-metrics';
import type { BuildRequest, QueuedBuild, TaskRun } from './task-run';
import { agentStarting, appInitializing, applyAgentState, rejectOperation, setLatestBuild } from './task-state';

// The steps of a task's story: write the next build (an update's handler), run a queued build to its
// end, settle a start (bounded waits for the agent and the task app), pause a task that has been idle
// too long (the main loop).

/** Patch id: a failed delete build keeps the workflow (and the workspace deletable), see runBuild. */
export const FAILED_DELETE_RETRYABLE = 'failed-delete-retryable';

/**
 * Writes build N+1 and queues it for the main loop. The number is reserved in memory before the
 * first await, so a concurrent update's validator already sees a build in flight.
 */
export async function requestBuild(run: TaskRun, req: BuildRequest): Promise<BuildRef> {
  while (run.phase === 'finishing') await condition(() => run.phase !== 'finishing');
  run.assertAllowed(req.op);
  const m = run.mem();
  const from = run.phase;
  const saved = { records: m.records, overlay: run.overlay?.snapshot() };
  const buildNumber = m.records.latestBuild.buildNumber + 1;
  // a lean run's reservation also begins the build: the status it publishes now is the one it keeps
  setLatestBuild(m, { buildId: '', buildNumber, transition: req.transition, jobStatus: run.lean ? 'running' : 'pending', reason: req.reason });
  run.overlay?.newBuild(buildNumber);
  run.moveTo('reserving');
  run.publish();
  const requestedAtMs = Date.now();
  try {
    const summary = `build #${buildNumber} ${req.transition} (${req.reason})`;
    const create = {
      taskId: run.taskId,
      workspaceId: m.records.created.workspaceId,
      buildNumber,
      transition: req.transition,
      reason: req.reason,
      initiatorId: req.initiatorId,
      requestId: req.requestId,
      operationKey: uuid4(),
    };
    let ref: BuildRef;
    if (run.lean) {
      const reserved = await run.writes.reserveBuild.executeWithOptions({ summary }, [{ ...create, notify: req.notify }]);
      ref = { buildId: reserved.buildId, buildNumber: reserved.buildNumber };
    } else {
      ref = await records.createBuild.executeWithOptions({ summary }, [create]);
    }
    m.records = { ...m.records, latestBuild: { ...m.records.latestBuild, buildId: ref.buildId } };
    if (req.op === 'delete') m.deleteAccepted = true;
    run.startRequestedAtMs = req.transition === 'start' ? requestedAtMs : null;
    const queued: QueuedBuild = { ref, transition: req.transition, reason: req.reason, notify: run.lean ? null : req.notify };
    if (run.lean) queued.begun = true;
    if (req.orphan && req.transition === 'delete') queued.orphan = true;
    run.queue.push(queued);
    run.moveTo('idle');
    return ref;
  } catch (err) {
    if (isCancellation(err)) throw err;
    // createBuild is one transaction: nothing was written, so the reservation is simply released
    m.records = saved.records;
    run.overlay?.restore(saved.overlay);
    // the reservation may have interrupted a settle that still has to finish
    run.moveTo(run.unsettled() ? 'settling' : SETTLING.includes(from) ? 'idle' : (from as 'idle' | 'deleteFailed'));
    throw asBusinessFailure(err);
  } finally {
    run.publish();
  }
}

/** beginBuild → provisionWorkspace → completeBuild | failBuild, then what the transition implies. */
export async function runBuild(run: TaskRun, q: QueuedBuild): Promise<void> {
  const m = run.mem();
  const { buildId, buildNumber } = q.ref;
  const story = `build #${buildNumber} ${q.transition} (${q.reason})`;
  run.moveTo('building');
  if (q.notify) await notify(run, buildId, q.notify);
  if (!q.begun) await run.writes.beginBuild.executeWithOptions({ summary: story }, [{ buildId }]);
  setJob(run, buildId, 'running');
  let outcome: StartOutcome;
  try {
    outcome = await provision(run, buildId, q.orphan ? `${story}, orphaned` : story, q.orphan === true);
  } catch (err) {
    if (isCancellation(err)) throw err;
    run.moveTo('finishing');
    await run.writes.failBuild.executeWithOptions({ summary: story }, [{ buildId, error: failureMessage(err) }]);
    setJob(run, buildId, 'failed');
    taskMetrics.buildFinished({ transition: q.transition, reason: q.reason, outcome: 'failed' });
    if (q.transition !== 'delete') {
      run.moveTo('idle');
    } else if (patched(FAILED_DELETE_RETRYABLE)) {
      // the task is gone (deleted when the delete was accepted, §3.5) but its workspace stands: the
      // run stays to run another delete build for it — a retry, or an orphaning one
      run.moveTo(m.records.deleted ? 'deleted' : 'deleteFailed');
      await finalizeDelete(run, false);
      run.publish();
    } else {
      // older runs ended here with the workspace still standing and nothing left to delete it with
      run.moveTo('deleted');
      await finalizeDelete(run, false);
      m.records = { ...m.records, deleted: true };
    }
    return;
  }
  run.moveTo('finishing');
  // completeBuild reads the agent's state after every report signalled so far
  run.reportsUnread = false;
  const autoPaused = q.transition === 'stop' && q.reason === BuildReason.autoPause;
  const follow: Omit<CompleteBuildInput, 'buildId' | 'outcome'> = {};
  if (run.lean && q.transition === 'delete') follow.finalizeDelete = { taskId: run.taskId, workspaceId: m.records.created.workspaceId };
  if (run.lean && autoPaused) follow.notify = { kind: 'paused', pauseReason: 'idle timeout' };
  const done = await run.writes.completeBuild.executeWithOptions({ summary: story }, [{ buildId, outcome, ...follow }]);
  run.moveTo(q.transition === 'start' ? 'settling' : q.transition === 'delete' ? 'deleted' : 'idle');
  if (follow.finalizeDelete) {
    m.records = { ...m.records, deleted: true };
    m.deleteAccepted = true;
  }
  setJob(run, buildId, 'succeeded');
  taskMetrics.buildFinished({ transition: q.transition, reason: q.reason, outcome: 'succeeded' });
  if (run.overlay) run.overlay.applyRead(m, done, true);
  else {
    m.records = { ...m.records, hostId: done.hostId };
    applyAgentState(m, done);
  }
  if (q.transition === 'start') {
    m.lastWorkingAtMs = Date.now();
    m.lastAppState = null;
  } else if (run.lean) {
    // written with completeBuild
  } else if (autoPaused) {
    await notify(run, buildId, { kind: 'paused', pauseReason: 'idle timeout' });
  } else if (q.transition === 'delete') {
    await finalizeDelete(run, true);
    m.records = { ...m.records, deleted: true };
    m.deleteAccepted = true;
  }
  run.publish();
}

/** Waits (bounded) for the agent to be ready and the task app healthy after a start (§2.1). */
export async function settle(run: TaskRun): Promise<void> {
  const m = run.mem();
  // an update's reservation takes the run out of settling: the new build is what matters now
  const interrupted = () => !SETTLING.includes(run.phase);
  if (run.reportsUnread) await run.readReports();
  if (interrupted()) return;
  const { agentReadyS, appHealthyS } = m.records.settings;
  // a lean run's stages share one timer, re-armed only when it fires before its stage's deadline
  const deadline = run.lean ? new Deadline() : null;
  /** One stage: wait (bounded) until `pending` is over, then record a start timeout if it is not; false once interrupted. */
  const stage = async (phase: 'awaitingAgent' | 'awaitingApp', pending: () => boolean, seconds: number, summary: string, kind: StartTimeoutStage) => {
    run.moveTo(phase);
    run.publish();
    const over = await awaitReports(run, () => !pending() || interrupted(), seconds * 1000, summary, deadline);
    if (interrupted()) return false;
    if (!over) await markStartTimeout(run, kind, seconds);
    return !interrupted();
  };
  try {
    if (agentStarting(m) && !(await stage('awaitingAgent', () => agentStarting(m), agentReadyS, 'awaitAgentReady', 'agent'))) return;
    if (appInitializing(m) && !agentStarting(m) && !(await stage('awaitingApp', () => appInitializing(m), appHealthyS, 'awaitAppHealthy', 'app'))) return;
  } finally {
    deadline?.cancel();
  }
  run.moveTo('idle');
  run.startSettled();
  run.publish();
}

/**
 * A stage's deadline kept with at most one timer. A later deadline leaves a pending timer alone
 * (when it fires early it is re-armed for the rest), so a start whose agent and app come up in
 * time costs one timer, cancelled once — not one per stage, nor one per report.
 */
class Deadline {
  passed = false;
  private at = 0;
  private summary = '';
  private scope: CancellationScope | null = null;
  private firesAt = 0;

  set(at: number, summary: string): void {
    this.at = at;
    this.summary = summary;
    this.passed = false;
    if (this.scope && this.firesAt <= at) return;
    this.cancel();
    this.arm();
  }

  cancel(): void {
    this.scope?.cancel();
    this.scope = null;
  }

  private arm(): void {
    const scope = new CancellationScope();
    const ms = Math.max(1, this.at - Date.now());
    this.scope = scope;
    this.firesAt = Date.now() + ms;
    scope.run(() => sleep(ms, { summary: this.summary })).then(
      () => {
        if (this.scope !== scope) return;
        this.scope = null;
        if (Date.now() >= this.at) this.passed = true;
        else this.arm();
      },
      () => undefined,
    );
  }
}

/**
 * Waits until `done`, for at most `timeoutMs`, reading the agent's reports as their signals
 * arrive; false when the time ran out. With a `deadline` (lean runs), its one timer bounds the wait.
 */
async function awaitReports(run: TaskRun, done: () => boolean, timeoutMs: number, summary: string, deadline: Deadline | null): Promise<boolean> {
  if (deadline) {
    deadline.set(Date.now() + timeoutMs, summary);
    for (;;) {
      await condition(() => done() || run.reportsUnread || deadline.passed);
      if (!run.reportsUnread) return done();
      await run.readReports();
    }
  }
  const until = Date.now() + timeoutMs;
  let left = timeoutMs;
  for (;;) {
    if (!(await condition(() => done() || run.reportsUnread, left, { summary }))) return false;
    if (!run.reportsUnread) return true;
    await run.readReports();
    left = until - Date.now();
    if (done() || left <= 0) return done();
  }
}

/** Milliseconds until the idle timeout pauses the task; null when auto-pause does not apply now. */
export function autoPauseDelayMs(run: TaskRun): number | null {
  const m = run.memory;
  const idle = m?.records.settings.idleTimeoutS;
  if (!m || !idle || m.lastWorkingAtMs === null || rejectOperation(m, 'pause')) return null;
  const b = m.records.latestBuild;
  if (b.transition !== 'start' || b.jobStatus !== 'succeeded') return null;
  return Math.max(0, m.lastWorkingAtMs + idle * 1000 - Date.now());
}

/** After a delivery that found the app busy, or left more behind: when to try again if no idle report wakes the run first. */
const DELIVERY_RETRY_MS = 30_000;

/**
 * The send queue's step: the oldest queued input goes to the app if it is stable (one per call; the
 * next waits for the app's next idle report). Inputs of a task that is not active wait for its next
 * start, whose first idle report wakes the run again.
 */
export async function deliverQueuedInput(run: TaskRun): Promise<void> {
  run.deliveryWanted = false;
  const r = await run.writes.deliverQueuedInput.executeWithOptions({ summary: 'deliver a queued input' }, [{ taskId: run.taskId }]);
  run.deliveryRetryAtMs = r.remaining > 0 && r.outcome !== 'inactive' ? Date.now() + DELIVERY_RETRY_MS : null;
}

/** §7.2: a stop build with reason task_auto_pause; Task Paused (idle timeout) once it succeeds. */
export async function autoPause(run: TaskRun): Promise<void> {
  try {
    await requestBuild(run, { op: 'pause', transition: 'stop', reason: BuildReason.autoPause, initiatorId: run.ownerId, notify: null });
  } catch (err) {
    if (isCancellation(err)) throw err;
    // try again after another idle period rather than at once
    run.mem().lastWorkingAtMs = Date.now();
    log.warn('auto-pause was not queued', { taskId: run.taskId, error: (err as Error).message });
  }
}

function setJob(run: TaskRun, buildId: string, jobStatus: 'running' | 'succeeded' | 'failed'): void {
  const m = run.mem();
  if (m.records.latestBuild.buildId === buildId) {
    m.records = { ...m.records, latestBuild: { ...m.records.latestBuild, jobStatus } };
  }
  run.publish();
}

function provision(run: TaskRun, buildId: string, story: string, orphan: boolean): Promise<StartOutcome> {
  const hostId = run.mem().records.hostId;
  // a workspace that lives on one host (process driver) is built by that host's worker; an orphaning
  // delete runs no provisioner, so any worker takes it — also when that host is gone for good
  const routing = hostId && !orphan
    ? { taskQueue: `${workflowInfo().taskQueue}@${hostId}`, scheduleToStartTimeout: HOST_PICKUP_TIMEOUT }
    : {};
  return provisioning.provisionWorkspace.executeWithOptions({ summary: story, ...routing }, [orphan ? { buildId, orphan } : { buildId }]);
}

async function markStartTimeout(run: TaskRun, stage: StartTimeoutStage, timeoutS: number): Promise<void> {
  const m = run.mem();
  const buildId = m.records.latestBuild.buildId;
  // the activity's read comes after every report signalled so far
  run.reportsUnread = false;
  const state = await run.writes.markStartTimeout.executeWithOptions(
    { summary: stage === 'agent' ? `agent not ready after ${timeoutS}s` : `app not healthy after ${timeoutS}s` },
    [{ taskId: run.taskId, buildId, stage, timeoutS }],
  );
  // an update may have queued the next build meanwhile; the read then describes the wrong one
  if (m.records.latestBuild.buildId === buildId) applyAgentState(m, state);
}

async function notify(run: TaskRun, buildId: string, event: TaskNotificationEvent): Promise<void> {
  try {
    await sideEffects.enqueueNotification.executeWithOptions({ summary: `task ${event.kind}` }, [{ taskId: run.taskId, buildId, event }]);
  } catch (err) {
    if (isCancellation(err)) throw err;
    // notifications never fail what caused them (§7.1): the event is logged instead
    log.warn('notification could not be enqueued', { taskId: run.taskId, buildId, event: event.kind, error: failureMessage(err) });
  }
}

/** The task stays soft-deleted with its snapshot removed; with a successful build its workspace is gone too. */
async function finalizeDelete(run: TaskRun, buildSucceeded: boolean): Promise<void> {
  const m = run.mem();
  await run.writes.finalizeDelete.executeWithOptions({ summary: 'finalize the delete' }, [
    { taskId: run.taskId, workspaceId: m.records.created.workspaceId, buildSucceeded },
  ]);
  m.deleteAccepted = true;
}
