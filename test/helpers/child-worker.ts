// The production worker entry (worker.ts) in a process of its own on a test stack, with its health
// port, so a test can SIGKILL it as a crash would and start another.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../devstack/free-port';
import type { TestStack } from './stack';
import { waitFor } from './wait';

export interface ChildWorker {
  pid: number;
  healthPort: number;
  /** SIGKILL, and wait for the exit */
  kill(): Promise<void>;
}

/** The environment that makes a worker process one of the stack's: its database, Temporal, queue, host and data folder. */
export function stackWorkerEnv(stack: TestStack): Record<string, string | undefined> {
  return {
    DATABASE_URL: stack.databaseUrl,
    TEMPORAL_ADDRESS: stack.config.temporal.address,
    TEMPORAL_TASK_QUEUE: stack.config.temporal.taskQueue,
    TASKD_HOST_ID: stack.config.worker.hostId,
    TASKD_DATA_DIR: stack.config.dataDir,
  };
}

/** `inheritFd`: a descriptor the worker inherits without close-on-exec, as a launcher's leftover would be. */
export async function startChildWorker(stack: TestStack, env: Record<string, string> = {}, inheritFd?: number): Promise<ChildWorker> {
  const healthPort = await freePort();
  const root = path.resolve(__dirname, '..', '..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'worker.ts')], {
    cwd: root,
    env: {
      ...process.env,
      ...stackWorkerEnv(stack),
      TASKD_ACCESS_URL: stack.baseUrl,
      TASKD_WORKSPACE_STOP_GRACE_MS: String(stack.config.worker.workspaceStopGraceMs),
      WORKER_HEALTH_PORT: String(healthPort),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      ...env,
    },
    // (at a high number: Node takes over the low ones at start, and leftovers sit higher)
    stdio: ['ignore', 'inherit', 'inherit', ...(inheritFd === undefined ? [] : [...Array<'ignore'>(37).fill('ignore'), inheritFd])],
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve(void (exited = true))));
  // the worker bundles its workflow code first (seconds on a loaded machine); it answers 200 once it polls
  await Promise.race([
    waitFor(async () => (await fetch(`http://127.0.0.1:${healthPort}/`).catch(() => null))?.status === 200, {
      what: 'the worker process ready',
      timeoutMs: 120_000,
      intervalMs: 200,
    }),
    exit.then(() => Promise.reject(new Error('the worker process exited before it was ready'))),
  ]);
  return {
    pid: child.pid!,
    healthPort,
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
  };
}
