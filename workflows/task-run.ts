import { ApplicationFailure, patched, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { BuildTransition } from '../domain/task-status';
import {
  TASK_SEARCH_KEYS,
  TaskFailure,
  type AgentReport,
  type BuildRef,
  type TaskNotificationEvent,
  type TaskRecordsState,
  type TaskWorkflowCarriedState,
} from './contracts';
import { ReportOverlay } from './legacy-reports';
import { localRecords, records } from './task-activities';
import { taskMetrics } from './task-metrics';
import { PHASE_LABELS, SETTLING, TRANSITIONS, type Phase } from './task-phase';
import {
  aboutLatestStart,
  agentStarting,
  appInitializing,
  applyAgentState,
  applyAppStatus,
  buildInFlight,
  describe,
  rejectOperation,
  statusOf,
  type TaskMemory,
  type TaskOperation,
} from './task-state';

// One task's run of the workflow: its phase (task-phase.ts), its memory of the task, the builds
// queued by updates, and what the agent has reported. Every change goes through moveTo() and
// publish(), which keep the TaskStatus search attribute and the UI's current details in step. The
// steps it takes (write the next build, run a build, settle a start, auto-pause) are task-steps.ts.

/** Patch id: a report's signal only says that the agent reported; the run reads what (readReports). */
export const READ_REPORTED_STATE = 'read-reported-state';


export interface QueuedBuild {
  ref: BuildRef;
  transition: BuildTransition;
  reason: string;
  /** enqueued once the build row exists, before the build runs (pause/resume, §3.9) */
  notify: TaskNotificationEvent | null;
  /** the build is running already: reserveBuild (or createTaskAndBeginBuild) began it */
  begun?: boolean;
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
  phase: Phase = 'loading';
  memory: TaskMemory | null = null;
  /** why the records could not be created (phase 'failed') */
  failure: ApplicationFailure | null = null;
  readonly queue: QueuedBuild[] = [];
  /** the task's owner, who initiates its auto-pause builds; known once its records are */
  ownerId = '';
  /** the agent reported since the run last read its state (runs that read reports back) */
  reportsUnread = false;
  /** inputs are queued for the app: the loop tries to deliver one when the task is idle (queuedInputsSignal) */
  deliveryWanted = false;
  /** when to try the send queue again without a wake-up (the app was busy, or more are left); null: not before one */
  deliveryRetryAtMs: number | null = null;
  /** when this run was asked for the start now under way (create or resume); null when it did not see the request */
  startRequestedAtMs: number | null = null;
  /** how runs started before READ_REPORTED_STATE learn the agent's state; null for current runs */
  readonly overlay: ReportOverlay | null;
  /**
   * A run of the lean workflow type (TASK_WORKFLOW_TYPE; it reads reports back as READ_REPORTED_STATE
   * runs do). Its short database writes are local activities, merged to one per step (reserveBuild,
   * completeBuild with what follows it, createTaskAndBeginBuild); a start's bounded wait keeps one
   * timer instead of one per report; a status is published once it is known, not in passing.
   */
  readonly lean: boolean;
  private readonly earlyReports: AgentReport[] = [];
  private publishedStatus: string | undefined;

  constructor(
    readonly taskId: string,
    lean: boolean,
  ) {
    this.publishedStatus = workflowInfo().typedSearchAttributes.get(TASK_SEARCH_KEYS.taskStatus);
    this.lean = lean;
    // decided once per run: replaying a run that began without the patch keeps its old behaviour
    this.overlay = lean || patched(READ_REPORTED_STATE) ? null : new ReportOverlay(0);
  }

  /** The short database writes: local activities in a lean run, activity tasks in older ones. */
  get writes(): typeof records {
    return this.lean ? localRecords : records;
  }

  get loaded(): boolean {
    return this.phase !== 'loading';
  }

  /** Whether the run is in one of `phases` (a method, so that a check after an await reads the phase anew). */
  in(...phases: Phase[]): boolean {
    return phases.includes(this.phase);
  }

  /** The one way the phase changes; a move the table does not list is a bug, and stops the run. */
  moveTo(next: Phase): void {
    if (!TRANSITIONS[this.phase].includes(next)) throw new Error(`task workflow: no move from ${this.phase} to ${next}`);
    this.phase = next;
  }

  mem(): TaskMemory {
    if (!this.memory) throw ApplicationFailure.create({ type: 'InternalError', message: 'task state is not loaded', nonRetryable: true });
    return this.memory;
  }

  /** Throws the spec's failure when `op` is not allowed now; validators and handlers both call it. */
  assertAllowed(op: TaskOperation): void {
    if (this.failure) throw ApplicationFailure.create({ type: TaskFailure.taskDeleted, message: 'The task does not exist.', nonRetryable: true });
    if (!this.memory) return; // decided again by the handler once the records are loaded
    const rejection = rejectOperation(this.memory, op);
    if (rejection && !(this.phase === 'finishing' && this.mayPassOnceFinished(op, rejection.type))) {
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

  /** The records could not be created: every update is answered with the failure, and the run ends. */
  fail(failure: ApplicationFailure): void {
    this.failure = failure;
    this.moveTo('failed');
  }

  /**
   * Memory is ready: replays reports that arrived while it loaded and decides what is left to do —
   * a build interrupted with a previous run (or written without one) is carried to its end, a start
   * that has not settled is settled.
   */
  adopt(memory: TaskMemory, settling = false): void {
    this.memory = memory;
    this.overlay?.newBuild(memory.records.latestBuild.buildNumber);
    for (const r of this.earlyReports.splice(0)) this.onReport(r);
    const b = memory.records.latestBuild;
    if (buildInFlight(b)) {
      const queued: QueuedBuild = { ref: { buildId: b.buildId, buildNumber: b.buildNumber }, transition: b.transition, reason: b.reason, notify: null };
      if (this.lean && b.jobStatus === 'running') queued.begun = true;
      this.queue.push(queued);
      this.moveTo('idle');
    } else if (b.transition === 'start' && b.jobStatus === 'succeeded') {
      memory.lastWorkingAtMs ??= Date.now();
      this.moveTo(settling || this.unsettled() ? 'settling' : 'idle');
    } else {
      this.moveTo(memory.records.deleted ? 'deleted' : 'idle');
    }
    this.publish();
  }

  finished(): boolean {
    return this.phase === 'failed' || this.phase === 'deleted';
  }

  /** A start whose agent or task app has not come up yet. */
  unsettled(): boolean {
    const m = this.mem();
    const b = m.records.latestBuild;
    return b.transition === 'start' && b.jobStatus === 'succeeded' && (agentStarting(m) || appInitializing(m));
  }

  /** An agent report's signal: the agent wrote something about the latest start build. */
  onReport(report: AgentReport): void {
    const m = this.memory;
    if (!m) {
      this.earlyReports.push(report);
      return;
    }
    if (aboutLatestStart(m, report)) {
      if (report.kind === 'app_status') {
        // only the signal tells every state in turn, which the auto-pause bump rule needs
        if (applyAppStatus(m, report.state).bumped) m.lastWorkingAtMs = Date.now();
      } else if (this.overlay) {
        this.overlay.fold(m, report);
      } else {
        this.reportsUnread = true;
      }
    }
    this.publish();
  }

  /** Reads what the agent has reported: a read taken after a report's signal is never older than it. */
  async readReports(): Promise<void> {
    const m = this.mem();
    this.reportsUnread = false;
    const buildId = m.records.latestBuild.buildId;
    const state = await this.writes.readAgentState.executeWithOptions({ summary: 'read agent reports' }, [{ taskId: this.taskId }]);
    // an update may have queued the next build meanwhile; the read then describes the wrong one
    if (m.records.latestBuild.buildId === buildId) applyAgentState(m, state);
    this.publish();
  }

  /** A start has settled: its duration goes to the worker's metrics, once. */
  startSettled(): void {
    const m = this.mem();
    if (this.startRequestedAtMs === null) return;
    const seconds = (Date.now() - this.startRequestedAtMs) / 1000;
    this.startRequestedAtMs = null;
    taskMetrics.startSettled({ kind: m.records.latestBuild.buildNumber === 1 ? 'create' : 'resume', status: statusOf(m), seconds });
  }

  publish(): void {
    const m = this.memory;
    if (!m) return;
    const status = m.records.deleted && this.queue.length === 0 ? 'deleted' : statusOf(m);
    if (status !== this.publishedStatus) {
      upsertSearchAttributes([{ key: TASK_SEARCH_KEYS.taskStatus, value: status }]);
      this.publishedStatus = status;
    }
    setCurrentDetails(describe(m, this.label()));
  }

  label(): string {
    return this.phase === 'building' ? `building #${this.mem().records.latestBuild.buildNumber}` : PHASE_LABELS[this.phase];
  }

  /** What the next run needs after continue-as-new. */
  carried(): TaskWorkflowCarriedState {
    const m = this.mem();
    return {
      latestBuildNumber: m.records.latestBuild.buildNumber,
      lastWorkingAt: m.lastWorkingAtMs === null ? null : new Date(m.lastWorkingAtMs).toISOString(),
      records: m.records as TaskRecordsState,
      lastAppState: m.lastAppState,
      settling: SETTLING.includes(this.phase),
    };
  }
}
