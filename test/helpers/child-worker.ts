// taskd's production entries (worker.ts, api/server.ts) in processes of their own on a test stack,
// so a test can SIGKILL one as a crash would, or read what only a whole process serves (its metrics).
import { spawn, type ChildProcess as NodeChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../devstack/free-port';
import type { TestStack } from './stack';
import { waitFor } from './wait';

export interface ChildProcess {
  pid: number;
  /** SIGKILL, and wait for the exit */
  kill(): Promise<void>;
}

export interface ChildWorker extends ChildProcess {
  healthPort: number;
}

export interface ApiAnswer {
  status: number;
  /** parsed when the answer is JSON, else the text */
  body: any;
}

export interface ChildApi extends ChildProcess {
  baseUrl: string;
  /** one request, as a session token's holder makes it */
  call(method: string, path: string, token?: string, body?: unknown): Promise<ApiAnswer>;
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

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Starts `script` with `env`, and waits until `readyUrl` answers 200. `inheritFd`: a descriptor the
 * child inherits without close-on-exec, as a launcher's leftover would be.
 */
async function startChild(
  script: string,
  env: Record<string, string | undefined>,
  ready: { url: string; what: string },
  inheritFd?: number,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script)], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', ...env },
    // (at a high number: Node takes over the low ones at start, and leftovers sit higher)
    stdio: ['ignore', 'inherit', 'inherit', ...(inheritFd === undefined ? [] : [...Array<'ignore'>(37).fill('ignore'), inheritFd])],
  });
  const { url: readyUrl, what } = ready;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve(void (exited = true))));
  // a worker bundles its workflow code first (seconds on a loaded machine); it answers 200 once it polls
  await Promise.race([
    waitFor(async () => (await fetch(readyUrl).catch(() => null))?.status === 200, { what: `the ${what} ready`, timeoutMs: 120_000, intervalMs: 200 }),
    exit.then(() => Promise.reject(new Error(`the ${what} exited before it was ready`))),
  ]);
  return {
    pid: child.pid!,
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
  };
}

export async function startChildWorker(stack: TestStack, env: Record<string, string> = {}, inheritFd?: number): Promise<ChildWorker> {
  const healthPort = await freePort();
  const child = await startChild(
    'worker.ts',
    {
      ...stackWorkerEnv(stack),
      TASKD_ACCESS_URL: stack.baseUrl,
      TASKD_WORKSPACE_STOP_GRACE_MS: String(stack.config.worker.workspaceStopGraceMs),
      WORKER_HEALTH_PORT: String(healthPort),
      ...env,
    },
    { url: `http://127.0.0.1:${healthPort}/`, what: 'worker process' },
    inheritFd,
  );
  return { ...child, healthPort };
}

/** Another API process on the stack's database and Temporal (the stack's own runs in the test's process). */
export async function startChildApi(stack: TestStack, env: Record<string, string> = {}): Promise<ChildApi> {
  const port = await freePort();
  const { DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE } = stackWorkerEnv(stack);
  const child = await startChild(
    'api/server.ts',
    { DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, HOST: '127.0.0.1', PORT: String(port), ...env },
    { url: `http://127.0.0.1:${port}/readyz`, what: 'API process' },
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    ...child,
    baseUrl,
    async call(method, path, token, body) {
      const headers: Record<string, string> = token ? { 'Coder-Session-Token': token } : {};
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text && /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text };
    },
  };
}

export type FixtureWorker = NodeChildProcess & { said(line: string): Promise<void> };

/**
 * A worker of test/workflows/fixtures/worker-child.ts (it can hold inside an activity:
 * TASKD_TEST_HOLD_AFTER), added to `children`, which the calling file SIGKILLs at its end whatever
 * happened: a child left running would poll the next test's queue and stall its workflows.
 */
export function startFixtureWorker(stack: TestStack, children: Set<NodeChildProcess>, env: Record<string, string> = {}): Promise<FixtureWorker> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'workflows', 'fixtures', 'worker-child.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...stackWorkerEnv(stack), LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  // a loaded machine (the whole suite at once) can take a while to compile and start a worker
  const said = (line: string) => waitFor(() => out.includes(line), { what: `the worker to say ${line}`, timeoutMs: 90_000 }).then(() => undefined);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker child exited early (${code})`)));
    said('worker-ready').then(
      () => resolve(Object.assign(child, { said })),
      (err) => {
        child.kill('SIGKILL');
        reject(err);
      },
    );
  });
}
