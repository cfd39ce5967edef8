import { proxySinks, type Sinks } from '@temporalio/workflow';
import type { BuildTransition, TaskStatus } from '../domain/task-status';

// What the task workflow tells the worker's metrics: a build's end and how long a start took to
// settle. Only the workflow knows when a start has settled, and it may not do I/O; a sink is its
// way out that leaves no trace in the history (so replay is unaffected), and the worker skips the
// calls of a replayed history, so each event counts once.

export interface BuildFinished {
  transition: BuildTransition;
  /** the build's reason (BuildReason): which operation asked for it */
  reason: string;
  outcome: 'succeeded' | 'failed';
}

export interface StartSettled {
  /** the task's first start (its create) or a later one */
  kind: 'create' | 'resume';
  /** where the task stands once settled: active, or error when the agent or its app missed a deadline */
  status: TaskStatus;
  /** from the request (create or resume) to settled, in workflow time */
  seconds: number;
}

export interface TaskMetricsSinks extends Sinks {
  taskMetrics: {
    buildFinished(event: BuildFinished): void;
    startSettled(event: StartSettled): void;
  };
}

export const { taskMetrics } = proxySinks<TaskMetricsSinks>();
