// The task workflow's in-memory picture of its task and the rules that read it. Pure and
// workflow-safe: update validators must decide synchronously from this, without an activity.
import type { AppStatusState, TaskStatus } from '../domain/task-status';
import { deriveTaskStatus, isAppStatusState } from '../domain/task-status';
import { shouldBumpActivity } from '../domain/app-status';
import { TaskFailure, type AgentReport, type BuildSnapshot, type TaskAppState, type TaskRecordsState } from './contracts';

export type TaskOperation = 'pause' | 'resume' | 'delete';

export interface TaskMemory {
  records: TaskRecordsState;
  /** a delete was accepted: the task is gone for every later operation */
  deleteAccepted: boolean;
  lastWorkingAtMs: number | null;
  lastAppState: AppStatusState | null;
}

export function newMemory(records: TaskRecordsState): TaskMemory {
  return {
    records,
    deleteAccepted: records.deleted,
    lastWorkingAtMs: null,
    lastAppState: null,
  };
}

export function buildInFlight(b: BuildSnapshot): boolean {
  return b.jobStatus === 'pending' || b.jobStatus === 'running';
}

/** Why `op` is refused right now (spec §3.5, §3.9), or null when it may go ahead. */
export function rejectOperation(m: TaskMemory, op: TaskOperation): { type: string; message: string } | null {
  const b = m.records.latestBuild;
  if (m.deleteAccepted || m.records.deleted) {
    // a delete whose build failed leaves the workspace standing: deleting it again is the way out
    const retry = op === 'delete' && !m.records.deleted && b.transition === 'delete' && b.jobStatus === 'failed';
    if (!retry) return { type: TaskFailure.taskDeleted, message: 'The task has been deleted.' };
  }
  if (op === 'resume' && b.transition === 'start' && b.jobStatus === 'succeeded') {
    return { type: TaskFailure.workspaceRunning, message: 'Task workspace is already running.' };
  }
  if (buildInFlight(b)) return { type: TaskFailure.buildActive, message: 'A workspace build is already active.' };
  return null;
}

/** §2.1 from what the workflow knows; equals the view's status while the workflow is the only writer. */
export function statusOf(m: TaskMemory): TaskStatus {
  const r = m.records;
  return deriveTaskStatus({
    hasWorkspace: true,
    transition: r.latestBuild.transition,
    jobStatus: r.latestBuild.jobStatus,
    agentLifecycle: r.agentId ? r.agentLifecycle : null,
    appHealth: r.appId ? r.appHealth : null,
  });
}

/** What the agent of the latest build has reported, as read from the database. */
export function applyAgentState(m: TaskMemory, s: TaskAppState): void {
  m.records = { ...m.records, agentId: s.agentId, appId: s.appId, agentLifecycle: s.agentLifecycle, appHealth: s.appHealth };
}

/** The latest build changed: what its agent reported is not known yet. */
export function setLatestBuild(m: TaskMemory, b: BuildSnapshot): void {
  m.records = { ...m.records, latestBuild: b, agentId: null, appId: null, agentLifecycle: null, appHealth: null };
}

/** Whether a report is about the latest build, a start build: reports of any other build change nothing. */
export function aboutLatestStart(m: TaskMemory, report: AgentReport): boolean {
  const b = m.records.latestBuild;
  return report.buildNumber === b.buildNumber && b.transition === 'start';
}

/**
 * Folds an app status report into memory. Returns whether it proves the agent was busy (the
 * auto-pause bump rule of §4.2: a `working` report, or the report that ends `working`).
 */
export function applyAppStatus(m: TaskMemory, state: string): { bumped: boolean } {
  if (!isAppStatusState(state)) return { bumped: false };
  const previous = m.lastAppState;
  m.lastAppState = state;
  return { bumped: shouldBumpActivity(previous, state) };
}

/** The agent has not reached a final start state yet (null: the build has not recorded it). */
export function agentStarting(m: TaskMemory): boolean {
  const l = m.records.agentLifecycle;
  return l === null || l === 'created' || l === 'starting';
}

export function appInitializing(m: TaskMemory): boolean {
  return m.records.appId !== null && m.records.appHealth === 'initializing';
}

/** A short human line for the Temporal UI's "current details". */
export function describe(m: TaskMemory, phase: string): string {
  const b = m.records.latestBuild;
  const parts = [`**${statusOf(m)}** (${phase})`, `build ${b.buildNumber}: ${b.transition} ${b.jobStatus} (${b.reason})`];
  if (b.transition === 'start' && m.records.agentId) {
    parts.push(`agent ${m.records.agentLifecycle ?? '-'}`, `app ${m.records.appHealth ?? '-'}`);
  }
  return parts.join(' · ');
}
