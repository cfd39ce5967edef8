import path from 'node:path';
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundle, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Orm } from '../db/orm';
import type { Config } from './config';
import type { Logger } from './logger';

export const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', 'index.ts');

/** Bundles workflow code once; callers that create several workers (tests) pass the result around. */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
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
}

/** The composition of a taskd worker: Temporal connection, activities bound to their deps, workflows. */
export async function createTaskdWorker(opts: WorkerOptions) {
  const { config, orm, log } = opts;
  if (!config.temporal.address) throw new Error('TEMPORAL_ADDRESS is required for the worker');
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const activities = createActivities({ config, orm, log });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities,
  });
  return { worker, connection };
}
