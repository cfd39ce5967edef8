// How runs started before READ_REPORTED_STATE learned what the agent reported, kept so that they
// replay unchanged: each report's payload was folded into memory as its signal arrived, and a later
// database read was overlaid with the reports already folded in (the read could predate them).
// Runs of the current code read the reports back instead (TaskRun.readReports). Remove this file
// with the patch once no run that started without it is open.
import type { AgentLifecycle, AppHealth } from '../domain/task-status';
import type { AgentReport, TaskAppState } from './contracts';
import type { TaskMemory } from './task-state';

export class ReportOverlay {
  private reported: { buildNumber: number; lifecycle?: AgentLifecycle; healths: Record<string, AppHealth> };

  constructor(buildNumber: number) {
    this.reported = { buildNumber, healths: {} };
  }

  /** A new latest build: reports about earlier builds no longer apply. */
  newBuild(buildNumber: number): void {
    this.reported = { buildNumber, healths: {} };
  }

  snapshot(): unknown {
    return this.reported;
  }

  restore(snapshot: unknown): void {
    this.reported = snapshot as ReportOverlay['reported'];
  }

  /** Folds a lifecycle or app-health report of the latest start build into memory. */
  fold(m: TaskMemory, report: AgentReport): void {
    if (report.kind === 'lifecycle') {
      this.reported.lifecycle = report.state as AgentLifecycle;
      if (m.records.agentId === report.agentId) m.records.agentLifecycle = report.state as AgentLifecycle;
    } else if (report.kind === 'app_health') {
      Object.assign(this.reported.healths, report.healths);
      if (m.records.appId && report.healths[m.records.appId]) m.records.appHealth = report.healths[m.records.appId] as AppHealth;
    }
  }

  /** Applies a database read; with `overlay`, the reports of this build already folded in win over it. */
  applyRead(m: TaskMemory, read: TaskAppState & { hostId?: string | null }, overlay: boolean): void {
    m.records = { ...m.records, ...read };
    if (!overlay || this.reported.buildNumber !== m.records.latestBuild.buildNumber) return;
    if (this.reported.lifecycle && m.records.agentId) m.records.agentLifecycle = this.reported.lifecycle;
    const health = m.records.appId ? this.reported.healths[m.records.appId] : undefined;
    if (health) m.records.appHealth = health;
  }
}
