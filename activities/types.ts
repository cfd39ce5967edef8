// Inputs and results of the task workflow's activities. Plain data only: these cross the Temporal
// boundary (and are recorded in histories), so fields may be added but never renamed.
import type { AgentLifecycle, AppHealth, BuildTransition, JobStatus } from '../domain/task-status';
import type { BuildRef, CreateTaskResult } from '../workflows/contracts';

/** What the workflow needs from the template version, resolved once per run. */
export interface TaskSettings {
  agentReadyS: number;
  appHealthyS: number;
  /** auto_pause.idle_timeout_s, null when the template does not auto-pause */
  idleTimeoutS: number | null;
}

export interface BuildSnapshot extends BuildRef {
  transition: BuildTransition;
  jobStatus: JobStatus;
  reason: string;
}

/** The latest task_workspace_apps row as the status rules of §2.1 read it. */
export interface TaskAppState {
  agentId: string | null;
  appId: string | null;
  agentLifecycle: AgentLifecycle | null;
  appHealth: AppHealth | null;
}

/** Everything the workflow keeps in memory, loaded from (or just written to) the database. */
export interface TaskRecordsState extends TaskAppState {
  created: CreateTaskResult;
  deleted: boolean;
  latestBuild: BuildSnapshot;
  hostId: string | null;
  settings: TaskSettings;
}

export interface CreateBuildInput {
  taskId: string;
  workspaceId: string;
  /** the number the workflow expects: latest + 1 */
  buildNumber: number;
  transition: BuildTransition;
  reason: string;
  initiatorId: string;
  requestId?: string;
  /** workflow-generated uuid stored as the build's job id: a retry finds its own build by it */
  operationKey: string;
}

export interface BeginBuildResult {
  /** the agent row of a start build (name "main"), null for stop/delete */
  agentId: string | null;
}

export interface CompleteBuildResult extends TaskAppState {
  hostId: string | null;
}

export type StartTimeoutStage = 'agent' | 'app';

export interface MarkStartTimeoutInput {
  taskId: string;
  buildId: string;
  stage: StartTimeoutStage;
  timeoutS: number;
}

export type TaskNotificationEvent =
  | { kind: 'paused'; pauseReason: 'manual' | 'idle timeout' }
  | { kind: 'resumed' };

export interface EnqueueTaskNotificationInput {
  taskId: string;
  /** the build the event is about; the dedupe key derives from it so retries enqueue once */
  buildId: string;
  event: TaskNotificationEvent;
}
