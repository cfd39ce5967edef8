import {
  ApplicationFailure,
  condition,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { BuildTransition } from '../domain/task-status';
import type { StartOutcome } from '../provisioner/driver';
import type { StartTimeoutStage, TaskNotificationEvent, TaskRecordsState } from './contracts';
import { BuildReason, TASK_SEARCH_KEYS, TaskFailure, type AgentReport, type BuildRef, type TaskWorkflowInput } from './contracts';
import { asBusinessFailure, failureMessage } from './failures';
import { HOST_PICKUP_TIMEOUT, provisioning, records, sideEffects } from './task-activities';
import {
  agentStarting,
  appInitializing,
  applyAppState,
  applyReport,
  describe,
  rejectOperation,
  setLatestBuild,
  statusOf,
  type TaskMemory,
  type TaskOperation,
} from './task-state';

// One task's run of the workflow: its memory, the builds queued by updates, and the steps the main
// loop performs (run a build, settle a start, auto-pause). Every change of memory goes through
// publish(), which keeps the TaskStatus search attribute and the UI's current details in step.

/** Patch id: a failed delete build keeps the workflow (and the workspace deletable), see keepAfterFailedDelete. */
export const FAILED_DELETE_RETRYABLE = 'failed-delete-retryable';

export interface QueuedBuild {
  ref: BuildRef;
  transition: BuildTransition;
  reason: string;
  /** enqueued once the build row exists, before the build runs (pause/resume, §3.9) */
  notify: TaskNotificationEvent | null;
  /** a delete that skips the provisioner (Coder's orphan): the workspace is marked deleted as it is */
  orphan?: boolean;
}

export interface BuildRequest {
  op: TaskOperation;
  transition: BuildTransition;
  reason: string;
  initiatorId: string;
  requestId?: string;
  notify: TaskNotificationEvent | null;
  orphan?: boolean;
}

export class TaskRun {
  memory: TaskMemory | null = null;
  /** createTaskRecords failed for good (e.g. the name is taken): the workflow only answers and ends */
  createFailure: ApplicationFailure | null = null;
  readonly queue: QueuedBuild[] = [];
  /** a createBuild is in flight; its build number is already reserved in memory */
  reserving = false;
  /**
   * completeBuild / failBuild is running: readers of the database may already see the build
   * finished, so an operation that arrives now waits for it instead of being refused.
   */
  private finishing = false;
  needsSettle = false;
  phase = 'creating';
  private readonly earlyReports: AgentReport[] = [];
  private publishedStatus: string | undefined;

  /** the task's owner, who initiates its auto-pause builds; known once its records are */
  ownerId = '';

  constructor(readonly taskId: string) {
    this.publishedStatus = workflowInfo().typedSearchAttributes.get(TASK_SEARCH_KEYS.taskStatus);
  }

  get loaded(): boolean {
    return this.memory !== null || this.createFailure !== null;
  }

  mem(): TaskMemory {
    if (!this.memory) throw ApplicationFailure.create({ type: 'InternalError', message: 'task state is not loaded', nonRetryable: true });
    return this.memory;
  }

  /** Throws the spec's failure when `op` is not allowed now; validators and handlers both call it. */
  assertAllowed(op: TaskOperation): void {
    if (this.createFailure) throw ApplicationFailure.create({ type: TaskFailure.taskDeleted, message: 'The task does not exist.', nonRetryable: true });
    if (!this.memory) return; // decided again by the handler once the records are loaded
    const rejection = rejectOperation(this.memory, op);
    if (rejection && !(this.finishing && this.mayPassOnceFinished(op, rejection.type))) {
      throw ApplicationFailure.create({ ...rejection, nonRetryable: true });
    }
  }

  /**
   * While completeBuild / failBuild runs, readers of the database may already see its outcome: an
   * operation that outcome can allow is left to the handler, which decides again once it is known.
   * A delete retried as soon as the delete build shows failed is one (the task itself is gone).
   */
  private mayPassOnceFinished(op: TaskOperation, rejection: string): boolean {
    if (rejection === TaskFailure.buildActive) return true;
    const r = this.mem().records;
    return op === 'delete' && r.latestBuild.transition === 'delete' && !r.deleted;
  }

  /** Memory is ready: replays reports that arrived while it loaded and decides what is left to do. */
  adopt(memory: TaskMemory): void {
    this.memory = memory;
    for (const r of this.earlyReports.splice(0)) this.onReport(r);
    const b = memory.records.latestBuild;
    // a build interrupted with a previous run (or written without one) is carried to its end
    if (b.jobStatus === 'pending' || b.jobStatus === 'running') {
      this.queue.push({ ref: { buildId: b.buildId, buildNumber: b.buildNumber }, transition: b.transition, reason: b.reason, notify: null });
    } else if (b.transition === 'start' && b.jobStatus === 'succeeded') {
      memory.lastWorkingAtMs ??= Date.now();
      this.settleIfUnsettled();
    }
    this.phase = 'idle';
    this.publish();
  }

  finished(): boolean {
    return this.createFailure !== null || (this.memory !== null && this.memory.records.deleted && this.queue.length === 0);
  }

  onReport(report: AgentReport): void {
    if (!this.memory) {
      this.earlyReports.push(report);
      return;
    }
    if (applyReport(this.memory, report).bumped) this.memory.lastWorkingAtMs = Date.now();
    this.publish();
  }

  publish(): void {
    const m = this.memory;
    if (!m) return;
    const status = m.records.deleted && this.queue.length === 0 ? 'deleted' : statusOf(m);
    if (status !== this.publishedStatus) {
      upsertSearchAttributes([{ key: TASK_SEARCH_KEYS.taskStatus, value: status }]);
      this.publishedStatus = status;
    }
    setCurrentDetails(describe(m, this.phase));
  }

  /**
   * Writes build N+1 and queues it for the main loop. The number is reserved in memory before the
   * first await, so a concurrent update's validator already sees a build in flight.
   */
  async requestBuild(req: BuildRequest): Promise<BuildRef> {
    while (this.finishing) await condition(() => !this.finishing);
    this.assertAllowed(req.op);
    const m = this.mem();
    const saved = { records: m.records, reported: m.reported };
    const buildNumber = m.records.latestBuild.buildNumber + 1;
    setLatestBuild(m, { buildId: '', buildNumber, transition: req.transition, jobStatus: 'pending', reason: req.reason });
    this.reserving = true;
    this.publish();
    try {
      const ref = await records.createBuild.executeWithOptions({ summary: `build #${buildNumber} ${req.transition} (${req.reason})` }, [
        {
          taskId: this.taskId,
          workspaceId: m.records.created.workspaceId,
          buildNumber,
          transition: req.transition,
          reason: req.reason,
          initiatorId: req.initiatorId,
          requestId: req.requestId,
          operationKey: uuid4(),
        },
      ]);
      m.records = { ...m.records, latestBuild: { ...m.records.latestBuild, buildId: ref.buildId } };
      if (req.op === 'delete') m.deleteAccepted = true;
      const queued: QueuedBuild = { ref, transition: req.transition, reason: req.reason, notify: req.notify };
      if (req.orphan && req.transition === 'delete') queued.orphan = true;
      this.queue.push(queued);
      return ref;
    } catch (err) {
      if (isCancellation(err)) throw err;
      // createBuild is one transaction: nothing was written, so the reservation is simply released
      m.records = saved.records;
      m.reported = saved.reported;
      // the reservation may have interrupted a settle that still has to finish
      this.settleIfUnsettled();
      throw asBusinessFailure(err);
    } finally {
      this.reserving = false;
      this.publish();
    }
  }

  /** beginBuild → provisionWorkspace → completeBuild | failBuild, then what the transition implies. */
  async runBuild(q: QueuedBuild): Promise<void> {
    const m = this.mem();
    const { buildId, buildNumber } = q.ref;
    const story = `build #${buildNumber} ${q.transition} (${q.reason})`;
    if (q.notify) await this.notify(buildId, q.notify);
    this.phase = `building #${buildNumber}`;
    await records.beginBuild.executeWithOptions({ summary: story }, [{ buildId }]);
    this.setJob(buildId, 'running');
    let outcome: StartOutcome;
    try {
      outcome = await this.provision(buildId, q.orphan ? `${story}, orphaned` : story, q.orphan === true);
    } catch (err) {
      if (isCancellation(err)) throw err;
      this.finishing = true;
      await records.failBuild.executeWithOptions({ summary: story }, [{ buildId, error: failureMessage(err) }]);
      this.finishing = false;
      this.setJob(buildId, 'failed');
      if (q.transition === 'delete') {
        // Older runs ended here with the workspace still standing and nothing left to delete it with.
        if (patched(FAILED_DELETE_RETRYABLE)) await this.keepAfterFailedDelete();
        else await this.finishDelete(false);
      }
      return;
    }
    this.finishing = true;
    const done = await records.completeBuild.executeWithOptions({ summary: story }, [{ buildId, outcome }]);
    this.finishing = false;
    this.setJob(buildId, 'succeeded');
    applyAppState(m, done, true);
    if (q.transition === 'start') {
      this.needsSettle = true;
      m.lastWorkingAtMs = Date.now();
      m.lastAppState = null;
    } else if (q.transition === 'stop' && q.reason === BuildReason.autoPause) {
      await this.notify(buildId, { kind: 'paused', pauseReason: 'idle timeout' });
    } else if (q.transition === 'delete') {
      await this.finishDelete(true);
    }
    this.phase = 'idle';
    this.publish();
  }

  /** Waits (bounded) for the agent to be ready and the task app healthy after a start (§2.1). */
  async settle(): Promise<void> {
    const m = this.mem();
    this.needsSettle = false;
    const interrupted = () => this.queue.length > 0 || this.reserving;
    const { agentReadyS, appHealthyS } = m.records.settings;
    if (agentStarting(m)) {
      this.phase = 'awaiting agent';
      this.publish();
      const ready = await condition(() => !agentStarting(m) || interrupted(), agentReadyS * 1000, { summary: 'awaitAgentReady' });
      if (interrupted()) return;
      if (!ready) await this.markStartTimeout('agent', agentReadyS);
    }
    if (appInitializing(m) && !agentStarting(m)) {
      this.phase = 'awaiting app';
      this.publish();
      const healthy = await condition(() => !appInitializing(m) || interrupted(), appHealthyS * 1000, { summary: 'awaitAppHealthy' });
      if (interrupted()) return;
      if (!healthy) await this.markStartTimeout('app', appHealthyS);
    }
    this.phase = 'idle';
    this.publish();
  }

  private settleIfUnsettled(): void {
    const m = this.mem();
    const b = m.records.latestBuild;
    if (b.transition === 'start' && b.jobStatus === 'succeeded' && (agentStarting(m) || appInitializing(m))) {
      this.needsSettle = true;
    }
  }

  /** Milliseconds until the idle timeout pauses the task; null when auto-pause does not apply now. */
  autoPauseDelayMs(): number | null {
    const m = this.memory;
    const idle = m?.records.settings.idleTimeoutS;
    if (!m || !idle || m.lastWorkingAtMs === null || rejectOperation(m, 'pause')) return null;
    const b = m.records.latestBuild;
    if (b.transition !== 'start' || b.jobStatus !== 'succeeded') return null;
    return Math.max(0, m.lastWorkingAtMs + idle * 1000 - Date.now());
  }

  /** §7.2: a stop build with reason task_auto_pause; Task Paused (idle timeout) once it succeeds. */
  async autoPause(): Promise<void> {
    try {
      await this.requestBuild({
        op: 'pause',
        transition: 'stop',
        reason: BuildReason.autoPause,
        initiatorId: this.ownerId,
        notify: null,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      // try again after another idle period rather than at once
      this.mem().lastWorkingAtMs = Date.now();
      log.warn('auto-pause was not queued', { taskId: this.taskId, error: (err as Error).message });
    }
  }

  private setJob(buildId: string, jobStatus: 'running' | 'succeeded' | 'failed'): void {
    const m = this.mem();
    if (m.records.latestBuild.buildId === buildId) {
      m.records = { ...m.records, latestBuild: { ...m.records.latestBuild, jobStatus } };
    }
    this.publish();
  }

  private provision(buildId: string, story: string, orphan: boolean): Promise<StartOutcome> {
    const hostId = this.mem().records.hostId;
    // a workspace that lives on one host (process driver) is built by that host's worker; an orphaning
    // delete runs no provisioner, so any worker takes it — also when that host is gone for good
    const routing = hostId && !orphan
      ? { taskQueue: `${workflowInfo().taskQueue}@${hostId}`, scheduleToStartTimeout: HOST_PICKUP_TIMEOUT }
      : {};
    return provisioning.provisionWorkspace.executeWithOptions({ summary: story, ...routing }, [orphan ? { buildId, orphan } : { buildId }]);
  }

  private async markStartTimeout(stage: StartTimeoutStage, timeoutS: number): Promise<void> {
    const m = this.mem();
    const buildId = m.records.latestBuild.buildId;
    const state = await records.markStartTimeout.executeWithOptions(
      { summary: stage === 'agent' ? `agent not ready after ${timeoutS}s` : `app not healthy after ${timeoutS}s` },
      [{ taskId: this.taskId, buildId, stage, timeoutS }],
    );
    // an update may have queued the next build meanwhile; the read then describes the wrong one
    if (m.records.latestBuild.buildId === buildId) applyAppState(m, state, false);
  }

  private async notify(buildId: string, event: TaskNotificationEvent): Promise<void> {
    try {
      await sideEffects.enqueueNotification.executeWithOptions({ summary: `task ${event.kind}` }, [
        { taskId: this.taskId, buildId, event },
      ]);
    } catch (err) {
      if (isCancellation(err)) throw err;
      // notifications never fail what caused them (§7.1): the event is logged instead
      log.warn('notification could not be enqueued', { taskId: this.taskId, buildId, event: event.kind, error: failureMessage(err) });
    }
  }

  /**
   * A delete build failed: the task is gone (it was deleted when the delete was accepted, §3.5) but
   * its workspace still stands, so the workflow stays to run another delete build for it — a retry,
   * or an orphaning one — asked for through POST /workspaces/{id}/builds.
   */
  private async keepAfterFailedDelete(): Promise<void> {
    const m = this.mem();
    await records.finalizeDelete({ taskId: this.taskId, workspaceId: m.records.created.workspaceId, buildSucceeded: false });
    m.deleteAccepted = true;
    this.phase = 'delete failed; waiting for another delete of the workspace';
    this.publish();
  }

  private async finishDelete(buildSucceeded: boolean): Promise<void> {
    const m = this.mem();
    await records.finalizeDelete({ taskId: this.taskId, workspaceId: m.records.created.workspaceId, buildSucceeded });
    m.records = { ...m.records, deleted: true };
    m.deleteAccepted = true;
    this.phase = 'deleted';
  }

  /** What the next run needs after continue-as-new. */
  carried(): TaskWorkflowInput['carried'] & object {
    const m = this.mem();
    return {
      latestBuildNumber: m.records.latestBuild.buildNumber,
      lastWorkingAt: m.lastWorkingAtMs === null ? null : new Date(m.lastWorkingAtMs).toISOString(),
      records: m.records as TaskRecordsState,
      lastAppState: m.lastAppState,
      settling: this.needsSettle,
    };
  }
}
