import { spawn } from 'node:child_process';
import fs from 'node:fs';

export interface DevstackLogger {
  info(msg: string, extra?: object): void;
  warn(msg: string, extra?: object): void;
  error(msg: string, extra?: object): void;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  timeoutMs?: number;
}

const MAX_CAPTURE = 256 * 1024;

/**
 * Runs a short-lived command to completion. Never rejects for a non-zero exit
 * (callers decide what failure means); rejects only when the command cannot be
 * started at all, with the spawn error (ENOENT, EACCES) as is.
 */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      uid: options.uid,
      gid: options.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_CAPTURE) stderr += d;
    });
    const timer =
      options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function describeFailure(what: string, result: RunResult): string {
  const status = result.signal ? `signal ${result.signal}` : `exit code ${result.code}`;
  const output = `${result.stderr}\n${result.stdout}`.trim().slice(-2000);
  return `${what} failed (${status})${output ? `:\n${output}` : ''}`;
}

/** True while any process of the group led by `pgid` exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    // EPERM means it exists but belongs to someone else: still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalQuietly(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {
    // Already gone: nothing to stop.
  }
}

// One listener per event for every server, so starting many in a test run never trips MaxListeners.
const exitHooks = new Set<() => void>();
const FATAL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function runExitHooks(): void {
  for (const hook of exitHooks) hook();
}

/**
 * Node dies of SIGINT/SIGTERM/SIGHUP without emitting 'exit', and the servers
 * sit in their own process groups, so a launcher without signal handlers would
 * orphan them. When this is the only listener, stop the servers and re-raise
 * the signal so the default behaviour (and exit status) stays the same; when
 * the launcher has its own handler, shutdown is its job.
 */
function onFatalSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  runExitHooks();
  for (const s of FATAL_SIGNALS) process.removeListener(s, onFatalSignal);
  process.kill(process.pid, signal);
}

function onParentExit(hook: () => void): () => void {
  if (exitHooks.size === 0) {
    process.on('exit', runExitHooks);
    for (const s of FATAL_SIGNALS) process.on(s, onFatalSignal);
  }
  exitHooks.add(hook);
  return () => {
    exitHooks.delete(hook);
    if (exitHooks.size > 0) return;
    // With no server left, the process gets its ordinary signal behaviour back.
    process.removeListener('exit', runExitHooks);
    for (const s of FATAL_SIGNALS) process.removeListener(s, onFatalSignal);
  };
}

export interface ServerProcessOptions {
  name: string;
  command: string;
  args: string[];
  log: DevstackLogger;
  logFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Sent to the group leader for a clean shutdown, both by stop() and when the parent exits. */
  stopSignal: NodeJS.Signals;
  /** How long stop() waits after stopSignal before SIGKILLing the whole group. */
  stopTimeoutMs: number;
}

export interface ServerProcess {
  readonly pid: number;
  /** Resolves when the leader exits; never rejects. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** The last lines the process wrote, for error messages. */
  outputTail(): string;
  stop(): Promise<void>;
}

const TAIL_BYTES = 4096;

export function readFileTail(file: string): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size, TAIL_BYTES);
      const buf = Buffer.alloc(length);
      fs.readSync(fd, buf, 0, length, size - length);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Spawns a long-running server in its own process group. Detaching keeps a
 * terminal Ctrl-C from reaching the server before the launcher has drained its
 * own work, and lets stop() reap everything the server forked. Output goes to
 * `logFile` when given, else to a small in-memory tail.
 */
export async function spawnServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const { name, log } = options;
  let fileFd: number | undefined;
  if (options.logFile !== undefined) fileFd = fs.openSync(options.logFile, 'a');
  const child = spawn(options.command, options.args, {
    detached: true,
    env: options.env,
    cwd: options.cwd,
    uid: options.uid,
    gid: options.gid,
    stdio: ['ignore', fileFd ?? 'pipe', fileFd ?? 'pipe'],
  });
  // The child holds its own copy of the descriptor.
  if (fileFd !== undefined) fs.closeSync(fileFd);

  let memoryTail = '';
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    stream.setEncoding('utf8').on('data', (d: string) => {
      memoryTail = (memoryTail + d).slice(-TAIL_BYTES);
    });
    // A pipe must not keep the parent's event loop alive on its own.
    (stream as unknown as { unref?: () => void }).unref?.();
  }

  const pid = child.pid;
  if (pid === undefined) {
    const err = await new Promise<Error>((r) => child.once('error', r));
    throw new Error(`Could not start ${name} (${options.command}): ${err.message}`);
  }
  child.unref();

  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      removeExitHook();
      resolve({ code, signal });
    });
  });
  const removeExitHook = onParentExit(() => signalQuietly(pid, options.stopSignal));

  const outputTail = () => (options.logFile !== undefined ? readFileTail(options.logFile) : memoryTail);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (!done) {
        log.info(`Stopping ${name} (pid ${pid})`);
        signalQuietly(pid, options.stopSignal);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(true), options.stopTimeoutMs))),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          log.warn(`${name} (pid ${pid}) ignored ${options.stopSignal} for ${options.stopTimeoutMs} ms; sending SIGKILL`);
          signalQuietly(-pid, 'SIGKILL');
          await exited;
        }
      }
      // Anything the leader forked and left behind dies with the group.
      for (let i = 0; groupAlive(pid); i++) {
        if (i === 20) signalQuietly(-pid, 'SIGKILL');
        if (i > 60) throw new Error(`${name}: process group ${pid} survived SIGKILL`);
        await sleep(50);
      }
    })();
    return stopping;
  };

  return { pid, exited, hasExited: () => done, outputTail, stop };
}

/** The words whileAlive puts in the error of a server that died before it was ready. */
const DIED_AT_STARTUP = 'exited during startup';

/**
 * Resolves with `work`'s value, or rejects as soon as the server process dies
 * (with its output tail), so a crash at startup fails fast instead of timing out.
 */
export async function whileAlive<T>(server: ServerProcess, name: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const died = server.exited.then(({ code, signal }) => {
    const status = signal ? `signal ${signal}` : `exit code ${code}`;
    const error = new Error(`${name} ${DIED_AT_STARTUP} (${status}). Last output:\n${server.outputTail().trim()}`);
    controller.abort(error);
    throw error;
  });
  died.catch(() => {});
  try {
    return await Promise.race([work(controller.signal), died]);
  } finally {
    controller.abort();
  }
}


/**
 * A server died at startup because an address it was to listen on was taken between the moment a
 * free port was picked and its bind — a race no check beforehand closes: ports picked as free (by
 * us, or by the Temporal CLI for its internal services) are ephemeral ports any outgoing connection
 * on the machine may take meanwhile. PostgreSQL says "Address already in use", Go "address already
 * in use".
 */
export function diedOnTakenPort(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.message.includes(DIED_AT_STARTUP) && /address already in use/i.test(err.message);
}

/**
 * Starts a server, starting it again (ports picked afresh by `start`) when it died on a port taken
 * meanwhile; any other failure, or the last attempt's, is thrown as it is.
 */
export async function startRetryingTakenPorts<T>(name: string, log: DevstackLogger, start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !diedOnTakenPort(err)) throw err;
      log.warn(`${name} could not listen on a port taken since it was picked; starting it again (attempt ${attempt + 1} of ${attempts})`);
    }
  }
}
