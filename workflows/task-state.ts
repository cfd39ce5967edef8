// The task workflow's in-memory picture of its task and the rules that read it. Pure and
// workflow-safe: update validators must decide synchronously from this, without an activity.
import type { AgentLifecycle, AppHealth, AppStatusState, TaskStatus } from '../domain/task-status';
import { deriveTaskStatus, isAppStatusState } from '../domain/task-status';
import type { BuildSnapshot, CompleteBuildResult, TaskAppState, TaskRecordsState } from './contracts';
import { shouldBumpActivity } from '../domain/app-status';
import { TaskFailure, type AgentReport } from './contracts';

export type TaskOperation = 'pause' | 'resume' | 'delete';

export interface TaskMemory {
  records: TaskRecordsState;
  /** a delete was accepted: the task is gone for every later operation */
  deleteAccepted: boolean;
  lastWorkingAtMs: number | null;
  lastAppState: AppStatusState | null;
  /** agent reports of the latest build, kept so a database read taken before them cannot undo them */
  reported: { buildNumber: number; lifecycle?: AgentLifecycle; healths: Record<string, AppHealth> };
}

export function newMemory(records: TaskRecordsState): TaskMemory {
  return {
    records,
    deleteAccepted: records.deleted,
    lastWorkingAtMs: null,
    lastAppState: null,
    reported: { buildNumber: records.latestBuild.buildNumber, healths: {} },
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

/**
 * Applies a database read of the task's agent/app. With `overlayReports`, reports of this build
 * that the workflow already processed win over the read: the read may predate them, while a report
 * newer than the read is still on its way as a signal and will be applied when it arrives.
 */
export function applyAppState(m: TaskMemory, s: TaskAppState | CompleteBuildResult, overlayReports: boolean): void {
  m.records = { ...m.records, ...s };
  if (!overlayReports || m.reported.buildNumber !== m.records.latestBuild.buildNumber) return;
  if (m.reported.lifecycle && m.records.agentId) m.records.agentLifecycle = m.reported.lifecycle;
  const health = m.records.appId ? m.reported.healths[m.records.appId] : undefined;
  if (health) m.records.appHealth = health;
}

/** The latest build changed: reports about earlier builds no longer apply. */
export function setLatestBuild(m: TaskMemory, b: BuildSnapshot): void {
  m.records = { ...m.records, latestBuild: b, agentId: null, appId: null, agentLifecycle: null, appHealth: null };
  m.reported = { buildNumber: b.buildNumber, healths: {} };
}

/**
 * Folds an agent report into memory. Returns whether it proves the agent was busy (the auto-pause
 * bump rule of §4.2: a `working` report, or the report that ends `working`).
 */
export function applyReport(m: TaskMemory, report: AgentReport): { bumped: boolean } {
  const b = m.records.latestBuild;
  if (report.buildNumber !== b.buildNumber || b.transition !== 'start') return { bumped: false };
  switch (report.kind) {
    case 'lifecycle':
      m.reported.lifecycle = report.state as AgentLifecycle;
      if (m.records.agentId === report.agentId) m.records.agentLifecycle = report.state as AgentLifecycle;
      return { bumped: false };
    case 'app_health':
      Object.assign(m.reported.healths, report.healths);
      if (m.records.appId && report.healths[m.records.appId]) {
        m.records.appHealth = report.healths[m.records.appId] as AppHealth;
      }
      return { bumped: false };
    case 'app_status': {
      if (!isAppStatusState(report.state)) return { bumped: false };
      const previous = m.lastAppState;
      m.lastAppState = report.state;
      return { bumped: shouldBumpActivity(previous, report.state) };
    }
  }
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
