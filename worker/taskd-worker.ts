import path from 'node:path';
import { NativeConnection, Worker, bundleWorkflowCode, type State, type WorkflowBundle, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, createHostActivities, type TaskActivities } from '../activities';
import { reapOrphanWorkspaces } from './reaper';
import { createProvisioners, type Provisioners } from '../provisioner';
import type { Orm } from '../db/orm';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import { startNotificationOutbox } from './outbox';
import { installTemporalRuntime } from './temporal-runtime';
import { workerMetrics } from './metrics';
import { workflowTracingModules, type Tracing } from '../lib/tracing';

export const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', 'index.ts');

/** Bundles workflow code once; callers that create several workers (tests) pass the result around. */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  // with traces on, the workflow's OpenTelemetry interceptors are part of the bundle (lib/tracing.ts)
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: workflowTracingModules(), logger: quietBundlerLogger });
}

const quietBundlerLogger = {
  trace() {},
  debug() {},
  info() {},
  log() {},
  warn(message: string, meta?: Record<string, unknown>) {
    console.warn(message, meta ?? '');
  },
  error(message: string, meta?: Record<string, unknown>) {
    console.error(message, meta ?? '');
  },
};

export interface WorkerOptions {
  config: Config;
  orm: Orm;
  log: Logger;
  workflowBundle?: WorkflowBundleOption;
  /** how often the notification outbox looks for due rows (default 1 s) */
  outboxPollMs?: number;
  /**
   * How long the server keeps this worker's cached workflows waiting for it before handing their
   * next task to any worker (Temporal's default 10 s): the delay a crashed worker costs them.
   */
  stickyQueueScheduleToStartTimeout?: string;
  /** OpenTelemetry traces (lib/tracing.ts): workflow and activity spans join their caller's trace */
  tracing?: Tracing | null;
  /** wraps the task queue's activities (a test holds a worker inside one to kill it there) */
  wrapActivities?: (activities: TaskActivities) => TaskActivities;
}

/** What runs in a worker process: the task queue's worker, this host's queue worker, the outbox. */
export interface TaskdWorker {
  run(): Promise<void>;
  shutdown(): void;
  getState(): State;
  readonly hostId: string;
  readonly hostTaskQueue: string;
}

/** The composition of a taskd worker: Temporal connection, activities bound to their deps, workflows. */
export async function createTaskdWorker(opts: WorkerOptions) {
  const { config, orm, log } = opts;
  if (!config.temporal.address) throw new Error('TEMPORAL_ADDRESS is required for the worker');
  installTemporalRuntime(log);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const provisioners = createProvisioners({ config, log });
  const deps = { config, orm, log, provisioners };
  const hostTaskQueue = `${config.temporal.taskQueue}@${provisioners.hostId}`;
  const { tracing } = opts;
  // a pre-built bundle has the workflow interceptors in it already (bundleWorkflows)
  const workflowModules = tracing && !opts.workflowBundle ? [tracing.workflowModule] : [];
  const activityInterceptors = tracing ? { activity: tracing.activityInterceptors() } : {};
  try {
    const main = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
      activities: (opts.wrapActivities ?? ((a) => a))(createActivities(deps)),
      interceptors: { ...activityInterceptors, workflowModules },
      sinks: { ...workerMetrics().sinks(), ...tracing?.workflowSinks() },
      ...(opts.stickyQueueScheduleToStartTimeout
        ? { stickyQueueScheduleToStartTimeout: opts.stickyQueueScheduleToStartTimeout }
        : {}),
    });
    // builds of workspaces that live on this host (process driver) are routed here by the workflow
    const host = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: hostTaskQueue,
      activities: createHostActivities(deps),
      interceptors: activityInterceptors,
    });
    const worker = combine(main, host, { ...deps, provisioners }, opts.outboxPollMs, hostTaskQueue);
    return { worker, connection };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

function combine(
  main: Worker,
  host: Worker,
  deps: { config: Config; orm: Orm; log: Logger; provisioners: Provisioners },
  outboxPollMs: number | undefined,
  hostTaskQueue: string,
): TaskdWorker {
  const stopOne = (w: Worker) => {
    if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    hostId: deps.provisioners.hostId,
    hostTaskQueue,
    getState: () => (host.getState() === 'RUNNING' ? main.getState() : host.getState()),
    shutdown() {
      stopOne(main);
      stopOne(host);
    },
    async run() {
      try {
        const reaped = await reapOrphanWorkspaces(deps);
        if (reaped.length > 0) deps.log.info({ workspaces: reaped }, 'stopped workspace processes that should not run');
      } catch (err) {
        deps.log.warn({ err }, 'could not check for orphaned workspace processes');
      }
      const outbox = startNotificationOutbox(deps, { pollIntervalMs: outboxPollMs, metrics: workerMetrics() });
      // one failing worker takes the other down with it: half a worker would look alive but stall
      const runs = [main, host].map((w) =>
        w.run().catch((err: unknown) => {
          stopOne(main);
          stopOne(host);
          throw err;
        }),
      );
      try {
        const results = await Promise.allSettled(runs);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      } finally {
        await outbox.stop();
      }
    },
  };
}
