// The launcher's worker and API run as child processes (their own entry points, as in production)
// so that one of them dying is seen, reported and repaired by the launcher instead of taking the
// launcher down or leaving it half-working. Their output goes to their log file.
import path from 'node:path';
import { spawnServerProcess, whileAlive, type DevstackLogger } from './processes';
import type { Running } from './supervisor';

const ROOT = path.resolve(__dirname, '..');
const EXIT_WITH_PARENT = path.join(__dirname, 'exit-with-parent.mjs');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface NodeServiceOptions {
  name: string;
  /** Entry file, relative to the checkout (e.g. worker.ts). */
  entry: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Answers 200 once the service serves. */
  readyUrl: string;
  readyTimeoutMs?: number;
  log: DevstackLogger;
}

export interface NodeService extends Running {
  pid: number;
}

async function waitUntilOk(url: string, deadline: number, signal: AbortSignal): Promise<void> {
  let last = 'no answer';
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    try {
      const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      signal.throwIfAborted();
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`${url} did not answer 200 in time (${last})`);
}

/** Starts `node --import tsx <entry>` and resolves once readyUrl answers 200. */
export async function startNodeService(opts: NodeServiceOptions): Promise<NodeService> {
  const started = Date.now();
  const server = await spawnServerProcess({
    name: opts.name,
    command: process.execPath,
    args: ['--import', 'tsx', '--import', EXIT_WITH_PARENT, opts.entry],
    cwd: ROOT,
    env: opts.env,
    log: opts.log,
    logFile: opts.logFile,
    // both entries drain on SIGTERM (the worker finishes its activities, the API its streams)
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 30_000,
  });
  try {
    await whileAlive(server, opts.name, (signal) => waitUntilOk(opts.readyUrl, started + (opts.readyTimeoutMs ?? 120_000), signal));
  } catch (err) {
    await server.stop().catch(() => {});
    throw err;
  }
  return { pid: server.pid, exited: server.exited, stop: server.stop };
}
