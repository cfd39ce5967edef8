import type { WorkspaceDefinition } from '../domain/workspace-definition';

// One interface for every way a workspace can run (process, docker, echo, external; k8s later).
// Drivers must be idempotent: activities retry, so start on a running workspace, stop on a stopped
// one and delete on a deleted one all succeed without doing the work twice.

export interface AgentSpec {
  id: string;
  name: string;
  /** plain agent token, derived (not stored) so a retried activity hands out the same one */
  token: string;
}

export interface BuildContext {
  workspaceId: string;
  workspaceName: string;
  ownerName: string;
  taskId: string | null;
  buildId: string;
  buildNumber: number;
  transition: 'start' | 'stop' | 'delete';
  definition: WorkspaceDefinition;
  /** the agent of this build (start builds only) */
  agent: AgentSpec | null;
  /** URL the workspace agent uses to reach the taskd API */
  accessUrl: string;
  /** tells the build's log what the driver is doing, one plain sentence per step (absent: nobody listens) */
  progress?: (output: string, level?: 'info' | 'warn' | 'error') => void;
}

export interface ProvisionedApp {
  slug: string;
  displayName: string;
  command: string | null;
  url: string;
  healthcheck: { url: string; interval_s: number; threshold: number } | null;
  /** health recorded with the app: "disabled" without a healthcheck, else "initializing" unless the
   * driver already knows better (echo) */
  health: 'disabled' | 'initializing' | 'healthy' | 'unhealthy';
}

export interface StartOutcome {
  apps: ProvisionedApp[];
  /** host whose worker holds the workspace (process driver); null when it lives elsewhere */
  hostId: string | null;
  /** lifecycle the agent is recorded with: "created" when a real agent will report, or a final state
   * when the driver plays the agent itself (echo) */
  agentLifecycle: 'created' | 'ready' | 'start_error' | 'start_timeout';
}

export interface ProvisionerDriver {
  readonly name: WorkspaceDefinition['provisioner'];
  start(ctx: BuildContext): Promise<StartOutcome>;
  stop(ctx: BuildContext): Promise<void>;
  delete(ctx: BuildContext): Promise<void>;
}

/**
 * What to do with a workspace a driver finds on this host when a worker starts. `gone`: the
 * workspace no longer exists (deleted, or never known to this database), so whatever is kept for
 * it across stops (a container's volume) may go too.
 */
export type ReconcileAction = { action: 'keep' } | { action: 'stop'; gone?: boolean } | { action: 'restart'; ctx: BuildContext };

export interface RecordedWorkspace {
  workspaceId: string;
  /** the build whose agent the record belongs to ('' when none is recorded) */
  buildId: string;
  /** its agent is alive */
  running: boolean;
}

export type ReconcileDecision = (w: RecordedWorkspace) => Promise<ReconcileAction>;

export class ProvisionerError extends Error {
  constructor(message: string, readonly retryable = false) {
    super(message);
    this.name = 'ProvisionerError';
  }
}
