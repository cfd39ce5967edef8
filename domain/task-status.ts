// Task status rules of shared/spec/coder-tasks-api.md §2. The same rules exist twice, once as
// TypeScript (for workflows and the API) and once as SQL (for the read view), because list
// filters must see the status single reads see; test/domain/task-status-sql.test.ts checks the
// SQL against deriveTaskStatus over every input combination so they cannot drift apart.

import { isStrictlyAfter } from './timestamp';

export const TASK_STATUSES = ['pending', 'initializing', 'active', 'paused', 'unknown', 'error'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const BUILD_TRANSITIONS = ['start', 'stop', 'delete'] as const;
export type BuildTransition = (typeof BUILD_TRANSITIONS)[number];

export const JOB_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'canceling', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const AGENT_LIFECYCLES = [
  'created',
  'starting',
  'start_timeout',
  'start_error',
  'ready',
  'shutting_down',
  'shutdown_timeout',
  'shutdown_error',
  'off',
] as const;
export type AgentLifecycle = (typeof AGENT_LIFECYCLES)[number];

export const APP_HEALTHS = ['disabled', 'initializing', 'healthy', 'unhealthy'] as const;
export type AppHealth = (typeof APP_HEALTHS)[number];

export const WORKSPACE_STATUSES = [
  'pending',
  'starting',
  'running',
  'stopping',
  'stopped',
  'failed',
  'canceling',
  'canceled',
  'deleting',
  'deleted',
] as const;
export type WorkspaceStatus = (typeof WORKSPACE_STATUSES)[number];

export const APP_STATUS_STATES = ['working', 'idle', 'complete', 'failure'] as const;
export type AppStatusState = (typeof APP_STATUS_STATES)[number];

export function isTaskStatus(s: string): s is TaskStatus {
  return (TASK_STATUSES as readonly string[]).includes(s);
}

export function isAppStatusState(s: string): s is AppStatusState {
  return (APP_STATUS_STATES as readonly string[]).includes(s);
}

/** What a component says: a final status, or 'active' meaning "ask the next component". */
export type ComponentStatus = TaskStatus;

export function buildComponent(transition: BuildTransition | null, jobStatus: JobStatus | null): ComponentStatus {
  if (jobStatus === null) return 'pending';
  if (jobStatus === 'failed' || jobStatus === 'canceling' || jobStatus === 'canceled') return 'error';
  if ((transition === 'stop' || transition === 'delete') && jobStatus === 'succeeded') return 'paused';
  if (transition === 'start' && jobStatus === 'pending') return 'pending';
  if (transition === 'start' && (jobStatus === 'running' || jobStatus === 'succeeded')) return 'active';
  return 'unknown';
}

/** `lifecycle` null means the latest task_workspace_apps row has no agent id. */
export function agentComponent(lifecycle: AgentLifecycle | null): ComponentStatus {
  if (lifecycle === null || lifecycle === 'created' || lifecycle === 'starting') return 'initializing';
  if (lifecycle === 'ready' || lifecycle === 'start_timeout' || lifecycle === 'start_error') return 'active';
  return 'unknown';
}

export function appComponent(health: AppHealth | null): ComponentStatus {
  switch (health) {
    case 'initializing':
      return 'initializing';
    case 'unhealthy':
      return 'error';
    case 'healthy':
    case 'disabled':
      return 'active';
    default:
      return 'unknown';
  }
}

export interface TaskStatusInputs {
  hasWorkspace: boolean;
  /** Transition of the build named by the latest task_workspace_apps row; null if none. */
  transition: BuildTransition | null;
  /** Provisioner job status of that build; null if there is no row or no such build. */
  jobStatus: JobStatus | null;
  /** Lifecycle of the row's agent; null when the row has no agent id. */
  agentLifecycle: AgentLifecycle | null;
  /** Health of the row's app; null when the row has no app id. */
  appHealth: AppHealth | null;
}

export function deriveTaskStatus(input: TaskStatusInputs): TaskStatus {
  if (!input.hasWorkspace) return 'pending';
  const build = buildComponent(input.transition, input.jobStatus);
  if (build !== 'active') return build;
  const agent = agentComponent(input.agentLifecycle);
  if (agent !== 'active') return agent;
  return appComponent(input.appHealth);
}

/** Workspace status of a build, as coderd computes it from (transition, job status) (§3.9). */
export function workspaceStatus(transition: BuildTransition, jobStatus: JobStatus): WorkspaceStatus {
  switch (jobStatus) {
    case 'pending':
      return 'pending';
    case 'running':
      return transition === 'start' ? 'starting' : transition === 'stop' ? 'stopping' : 'deleting';
    case 'succeeded':
      return transition === 'start' ? 'running' : transition === 'stop' ? 'stopped' : 'deleted';
    case 'canceling':
      return 'canceling';
    case 'canceled':
      return 'canceled';
    case 'failed':
      return 'failed';
  }
}

export interface LatestAppStatus {
  createdAt: string;
  state: AppStatusState;
  message: string;
  /** Stored as NULL when the agent sent an empty uri. */
  uri: string | null;
}

export interface LatestBuild {
  transition: BuildTransition;
  status: WorkspaceStatus;
  createdAt: string;
}

/** `state` passes the app-status value through unchanged, so a failed app reads "failure". */
export interface TaskStateEntry {
  timestamp: string;
  state: AppStatusState;
  message: string;
  uri: string;
}

export interface CurrentStateInputs {
  /** Latest status across all of the workspace's apps, not only the task app. */
  latestAppStatus: LatestAppStatus | null;
  latestBuild: LatestBuild | null;
  taskStatus: TaskStatus;
  agentLifecycle: AgentLifecycle | null;
  appHealth: AppHealth | null;
}

function initializingMessage(input: CurrentStateInputs, build: LatestBuild): string {
  if (build.status === 'pending') return 'Workspace is pending';
  if (build.status === 'starting') return 'Workspace is starting';
  switch (input.agentLifecycle) {
    case null:
      return 'Initializing workspace';
    case 'created':
      return 'Agent is connecting';
    case 'starting':
      return 'Agent is starting';
    case 'ready':
      return input.appHealth === 'initializing' ? 'App is initializing' : 'Initializing workspace applications';
    default:
      return 'Initializing workspace agent';
  }
}

/**
 * `current_state` of §2.2. A status reported during an earlier run is hidden once a new start
 * build exists, but stays visible after a stop so a paused task still shows its last state.
 * With no latest build at all there is nothing to date a synthesised entry with, so the
 * initializing branch yields null.
 */
export function deriveCurrentState(input: CurrentStateInputs): TaskStateEntry | null {
  const { latestAppStatus: status, latestBuild: build } = input;
  if (status && (!build || build.transition !== 'start' || isStrictlyAfter(status.createdAt, build.createdAt))) {
    return { timestamp: status.createdAt, state: status.state, message: status.message, uri: status.uri ?? '' };
  }
  if (input.taskStatus === 'initializing' && build) {
    return { timestamp: build.createdAt, state: 'working', message: initializingMessage(input, build), uri: '' };
  }
  return null;
}
