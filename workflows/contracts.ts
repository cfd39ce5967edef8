import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AgentLifecycle, AppHealth, BuildTransition, JobStatus } from '../domain/task-status';
import type { StartOutcome } from '../provisioner/driver';

// Everything the API, the task workflow and its activities share: names, messages, the workflow's
// input, and the inputs and results of its activities. Plain data only, workflow-safe imports only:
// these cross the Temporal boundary and are recorded in histories, so fields may be added but never
// renamed.

/** Custom search attributes registered on the Temporal server (dev server: --search-attribute). */
export const SEARCH_ATTRIBUTES = {
  TaskId: 'Keyword',
  TaskStatus: 'Keyword',
  OwnerName: 'Keyword',
  TemplateName: 'Keyword',
} as const;

/** Typed keys of SEARCH_ATTRIBUTES, for start options (typedSearchAttributes) and upserts. */
export const TASK_SEARCH_KEYS = {
  taskId: defineSearchAttributeKey('TaskId', SearchAttributeType.KEYWORD),
  taskStatus: defineSearchAttributeKey('TaskStatus', SearchAttributeType.KEYWORD),
  ownerName: defineSearchAttributeKey('OwnerName', SearchAttributeType.KEYWORD),
  templateName: defineSearchAttributeKey('TemplateName', SearchAttributeType.KEYWORD),
} as const;

/** One entity workflow per task; every caller derives the id through this helper. */
export function taskWorkflowId(taskId: string): string {
  return `task-${taskId}`;
}

/** The workflow type tasks start with; runs of the older 'taskWorkflow' type keep theirs (task-workflow.ts). */
export const TASK_WORKFLOW_TYPE = 'leanTaskWorkflow';

/** Build reasons of spec §3.5/§3.9/§7.2. */
export const BuildReason = {
  initiator: 'initiator',
  manualPause: 'task_manual_pause',
  resume: 'task_resume',
  autoPause: 'task_auto_pause',
  deleteViaTasksApi: 'Deleted via tasks API',
} as const;

/** Start arguments of the task workflow: enough to (re)create its records idempotently. */
export interface TaskWorkflowInput {
  taskId: string;
  workspaceId: string;
  organizationId: string;
  ownerId: string;
  ownerName: string;
  templateId: string;
  templateName: string;
  templateVersionId: string;
  presetId: string | null;
  name: string;
  displayName: string;
  prompt: string;
  initiatorId: string;
  idempotencyKey: string | null;
  /** carried across continue-as-new; absent on the first run */
  carried?: TaskWorkflowCarriedState;
  /** continue-as-new once the history is longer than this (default 2000; tests set it low) */
  historyLimit?: number;
}

/**
 * Start arguments of a task whose records exist but whose workflow does not run (it ended, or the
 * rows were written without one): the workflow reads the rest from the records itself.
 */
export interface AdoptTaskInput {
  taskId: string;
  adopt: true;
}

/** What a continued-as-new run needs to pick up where the previous run stopped. */
export interface TaskWorkflowCarriedState {
  latestBuildNumber: number;
  lastWorkingAt: string | null;
  /** the records as the previous run knew them: a continued run starts without a database read */
  records: TaskRecordsState;
  /** last app-status state reported, for the auto-pause activity bump rule */
  lastAppState: string | null;
  /** the previous run still had to wait for the agent / app of its latest start build */
  settling: boolean;
}

export interface CreateTaskResult {
  taskId: string;
  workspaceId: string;
  buildId: string;
}

export interface BuildRequest {
  initiatorId: string;
  /** request id of the HTTP call, for audit entries and logs */
  requestId?: string;
  /** delete only: mark the workspace deleted without running its provisioner (Coder's `orphan`) */
  orphan?: boolean;
  /**
   * Asked for through the workspace (POST /workspaces/{id}/builds), not the task API: the build's
   * reason is `initiator` and no Task Paused / Task Resumed notification goes out, as in Coder.
   */
  viaWorkspace?: boolean;
}

export interface BuildRef {
  buildId: string;
  buildNumber: number;
}

/** Failure types thrown by update validators and mapped to HTTP by the API (api/errors.ts). */
export const TaskFailure = {
  buildActive: 'BuildActive', // 409 A workspace build is already active.
  workspaceRunning: 'WorkspaceRunning', // 409 Task workspace is already running.
  taskDeleted: 'TaskDeleted', // 404
  nameTaken: 'NameTaken', // 409 Workspace "<name>" already exists.
} as const;

export const createTaskUpdate = defineUpdate<CreateTaskResult, []>('createTask');
export const pauseTaskUpdate = defineUpdate<BuildRef, [BuildRequest]>('pauseTask');
export const resumeTaskUpdate = defineUpdate<BuildRef, [BuildRequest]>('resumeTask');
export const deleteTaskUpdate = defineUpdate<BuildRef, [BuildRequest]>('deleteTask');

/** Reports from the workspace agent, stored by the API first and then signalled to wake the workflow. */
export type AgentReport =
  | { kind: 'lifecycle'; agentId: string; buildNumber: number; state: string }
  | { kind: 'app_health'; agentId: string; buildNumber: number; healths: Record<string, string> }
  | { kind: 'app_status'; agentId: string; buildNumber: number; appId: string; state: string };

export const agentReportSignal = defineSignal<[AgentReport]>('agentReport');

/**
 * The task has inputs queued for its AI app (stored by the API first): sent when one is queued and
 * when the app reports it is idle again while some are left. The run delivers the next one.
 */
export const queuedInputsSignal = defineSignal<[]>('queuedInputs');

/** What one delivery attempt of the send queue did, and how many inputs are still open. */
export interface QueuedDelivery {
  outcome: 'delivered' | 'busy' | 'empty' | 'inactive';
  remaining: number;
}

export interface TaskWorkflowView {
  phase: string;
  latestBuildNumber: number;
  buildActive: boolean;
}
export const taskViewQuery = defineQuery<TaskWorkflowView>('taskView');

// ---- activities: inputs and results

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

/** The lean workflow's build reservation: createBuild, the operation's notification and beginBuild, in one step. */
export interface ReserveBuildInput extends CreateBuildInput {
  notify: TaskNotificationEvent | null;
}

export interface ReservedBuild extends BuildRef, BeginBuildResult {}

/** The lean workflow's completeBuild: what the build's outcome implies is written with it. */
export interface CompleteBuildInput {
  buildId: string;
  outcome: StartOutcome;
  /** a delete build: the task and workspace are finalized as finalizeDelete does */
  finalizeDelete?: { taskId: string; workspaceId: string };
  /** an auto-pause build: Task Paused (idle timeout) */
  notify?: TaskNotificationEvent;
}
