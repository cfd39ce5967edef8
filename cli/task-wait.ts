import { CliError } from './command';
import { ApiRequestError, type TaskdClient } from './client';
import type { Progress } from './progress';
import { getBuild, getTask, type Task } from './tasks-api';

// Waiting for long operations by polling the task: the spinner shows the phase the server reports
// (current_state.message while initializing: "Workspace is starting", "Agent is connecting", ...).
// Ctrl-C during a wait only ends the CLI; the task carries on as it was.

const POLL_MS = 500;
const ERROR_GRACE_MS = 5 * 60_000;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const WORKSPACE_PHASES: Record<string, string> = {
  pending: 'Workspace is pending',
  starting: 'Workspace is starting',
  running: 'Workspace is running',
  stopping: 'Workspace is stopping',
  stopped: 'Workspace is stopped',
  deleting: 'Workspace is deleting',
  deleted: 'Workspace is deleted',
  failed: 'Workspace build failed',
  canceling: 'Workspace build is canceling',
  canceled: 'Workspace build was canceled',
};

/** The phase to show for a task: the server's own words while initializing, else the build's. */
export function phaseOf(t: Task): string {
  if (t.current_state?.message && (t.status === 'initializing' || t.status === 'pending')) return t.current_state.message;
  if (t.workspace_status && t.status !== 'active') return WORKSPACE_PHASES[t.workspace_status] ?? `Workspace is ${t.workspace_status}`;
  if (t.current_state?.message) return t.current_state.message;
  return `Task is ${t.status}`;
}

const BUILD_DONE = new Set(['running', 'stopped', 'deleted', 'failed', 'canceled']);

/**
 * Waits until build `buildNumber` of the task's workspace has finished, showing its phases.
 * Fails with the build's error if the build failed.
 */
export async function waitForBuild(
  client: TaskdClient,
  task: Task,
  build: { id: string; build_number: number },
  progress: Progress,
): Promise<Task> {
  for (;;) {
    const t = await getTask(client, task.id);
    const current = (t.workspace_build_number ?? 0) >= build.build_number;
    if (current) progress.set(phaseOf(t));
    if (current && t.workspace_status && BUILD_DONE.has(t.workspace_status)) {
      if (t.workspace_status === 'failed' || t.workspace_status === 'canceled') {
        progress.stop();
        throw new CliError(`workspace build #${build.build_number} ${t.workspace_status}${await buildError(client, build.id)}`);
      }
      return t;
    }
    await sleep(POLL_MS);
  }
}

async function buildError(client: TaskdClient, buildId: string): Promise<string> {
  try {
    const b = await getBuild(client, buildId);
    return b.job?.error ? `: ${b.job.error}` : '';
  } catch (err) {
    if (err instanceof ApiRequestError) return '';
    throw err;
  }
}

/**
 * Polls until the task is active. "error" is tolerated for a grace period (it can flicker while
 * a workspace comes up); "unknown" ends the wait at once — both as Coder's `task send` does.
 */
export async function waitForActive(client: TaskdClient, task: Task, progress: Progress): Promise<Task> {
  const graceEnds = Date.now() + ERROR_GRACE_MS;
  for (;;) {
    const t = await getTask(client, task.id);
    if (t.status === 'active') return t;
    if (t.status === 'unknown' || (t.status === 'error' && Date.now() > graceEnds)) {
      progress.stop();
      throw new CliError(`task entered ${t.status} state while waiting for it to become active`);
    }
    progress.set(phaseOf(t));
    await sleep(POLL_MS);
  }
}

/**
 * States in which the agent takes input. "failure" is what the server actually reports for a
 * failed app (it passes the app-status value through), so it counts too; Coder's CLI only knows
 * "failed" and would wait forever there.
 */
const READY_STATES = new Set(['idle', 'complete', 'failed', 'failure']);

/** Polls until the agent reports a state in which it accepts input. */
export async function waitForIdle(client: TaskdClient, task: Task, progress: Progress): Promise<Task> {
  for (;;) {
    const t = await getTask(client, task.id);
    if (t.current_state && READY_STATES.has(t.current_state.state)) return t;
    if (t.status !== 'active' && t.status !== 'initializing' && t.status !== 'pending') {
      progress.stop();
      throw new CliError(`task entered ${t.status} state while waiting for it to become idle`);
    }
    progress.set(t.current_state?.message ? `Agent is ${t.current_state.state}: ${t.current_state.message}` : 'Waiting for the agent to become idle');
    await sleep(POLL_MS);
  }
}
