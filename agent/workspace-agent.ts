import path from 'node:path';
import { freePort } from '../lib/net';
import type { Logger } from '../lib/logger';
import { fitSnapshotMessages } from '../domain/log-snapshot';
import { AiAppWatcher } from './ai-app-watcher';
import { AppProcess } from './app-process';
import type { AgentMessage } from './agentapi-wire';
import { HealthChecker } from './health-check';
import { ReportQueue } from './report-queue';
import { TaskdAgentClient, TaskdCallError, type LifecycleState, type Manifest, type ReportedHealth } from './taskd-client';

// taskd's workspace agent: runs inside a workspace (a process tree started by the process driver,
// or anywhere with `taskd agent --url … --token …`). It fetches its manifest, starts the apps,
// reports lifecycle and app health, relays the AI app's state and conversation, and on shutdown
// uploads the log snapshot before stopping the apps. Every report goes through one queue that
// retries while the server is away and keeps the latest report of each kind.

export const REPO_ROOT = path.resolve(__dirname, '..');

/** The TypeScript loader where the agent runs from taskd's checkout; none where it runs bundled (a container). */
function tsxLoader(): string | undefined {
  try {
    return require.resolve('tsx');
  } catch {
    return undefined;
  }
}

export interface WorkspaceAgentOptions {
  url: string;
  token: string;
  /** the workspace folder: apps run here, logs go to .taskd/logs */
  workspaceDir: string;
  log: Logger;
  /** environment the apps inherit (the agent's own, minus its token) */
  baseEnv?: NodeJS.ProcessEnv;
  /** how long an app may take to exit after SIGTERM */
  appStopGraceMs?: number;
  /** how long shutdown may spend sending its last reports */
  shutdownReportMs?: number;
}

export interface WorkspaceAgent {
  /** settles once the apps were started and ready/start_error reported (or shutdown began first) */
  readonly started: Promise<void>;
  readonly manifest: Manifest | null;
  /** settles once the agent has shut down, whoever asked (a signal, or the server refusing it) */
  readonly stopped: Promise<void>;
  shutdown(): Promise<void>;
}

// how long after spawning an app exiting counts as "failed to start"
const EARLY_EXIT_WINDOW_MS = 300;
// how often an agent with nothing to report checks that its build is still the workspace's latest
const CHECK_IN_MS = 10_000;

export function startWorkspaceAgent(opts: WorkspaceAgentOptions): WorkspaceAgent {
  const log = opts.log;
  const client = new TaskdAgentClient(opts.url, opts.token);
  let shuttingDown: Promise<void> | null = null;
  let manifest: Manifest | null = null;
  const apps: AppProcess[] = [];
  const checkers: HealthChecker[] = [];
  let watcher: AiAppWatcher | null = null;
  let checkIn: NodeJS.Timeout | undefined;
  const superseded = () => {
    log.error('the agent token was refused: this workspace build is over; shutting down');
    void agent.shutdown();
  };
  const queue = new ReportQueue({ log, onUnauthorized: superseded });

  const lifecycle = (state: LifecycleState, reason?: string) => {
    const changedAt = new Date().toISOString();
    queue.put('lifecycle', { state, changedAt, reason }, (r) => client.reportLifecycle(r.state, r.changedAt, r.reason));
  };
  const health = (appId: string, h: ReportedHealth) =>
    queue.put('app-health', { [appId]: h }, (healths) => client.reportAppHealth(healths), (older, newer) => ({ ...older, ...newer }));

  async function fetchManifest(): Promise<Manifest | null> {
    let delay = 200;
    while (!shuttingDown) {
      try {
        return await client.getManifest();
      } catch (err) {
        if (err instanceof TaskdCallError && !err.retryable) throw err;
        log.info({ err: (err as Error).message }, 'manifest not available yet; retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 3_000);
      }
    }
    return null;
  }

  async function appEnv(app: Manifest['apps'][number], m: Manifest): Promise<NodeJS.ProcessEnv> {
    const env: NodeJS.ProcessEnv = { ...(opts.baseEnv ?? process.env) };
    delete env.TASKD_AGENT_TOKEN;
    return {
      ...env,
      // the repo and its TypeScript loader, so templates can run taskd's own programs (the
      // built-in agent) from a folder without node_modules: node --import "$TASKD_TSX" ...
      TASKD_ROOT: env.TASKD_ROOT ?? REPO_ROOT,
      TASKD_TSX: env.TASKD_TSX ?? tsxLoader(),
      TASKD_WORKSPACE_DIR: opts.workspaceDir,
      ...m.env,
      PORT: String(app.port ?? (await freePort())),
    };
  }

  async function startApps(m: Manifest): Promise<string | null> {
    for (const app of m.apps) {
      if (!app.command || shuttingDown) continue;
      const logFile = path.join(opts.workspaceDir, '.taskd', 'logs', `${app.slug}.log`);
      const proc = new AppProcess(app.slug, app.command, { cwd: opts.workspaceDir, env: await appEnv(app, m), logFile });
      apps.push(proc);
      void proc.exited.then((exit) => {
        if (!shuttingDown) log.warn({ app: app.slug, ...exit }, 'app exited');
      });
    }
    await Promise.race([Promise.all(apps.map((a) => a.exited)), new Promise((r) => setTimeout(r, EARLY_EXIT_WINDOW_MS))]);
    const failed = apps.find((a) => a.hasExited && a.hasExited.code !== 0);
    if (!failed) return null;
    const exit = failed.hasExited!;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    return `app "${failed.slug}" ${how} right after starting (see .taskd/logs/${failed.slug}.log)`;
  }

  function watch(m: Manifest): void {
    for (const app of m.apps) {
      if (!app.healthcheck) continue;
      const checker = new HealthChecker({ ...app, healthcheck: app.healthcheck }, (h) => health(app.id, h));
      checkers.push(checker);
      checker.start();
    }
    const ai = m.apps.find((a) => a.slug === m.ai_app_slug);
    const task = m.task;
    if (!ai || !ai.url || !task) return;
    watcher = new AiAppWatcher({
      baseUrl: ai.url,
      task,
      log: log.child({ app: ai.slug }),
      onStatus: (s) =>
        queue.put('app-status', { app_slug: ai.slug, ...s }, (r) => client.reportAppStatus(r)),
      onMessages: (changed) =>
        queue.put(
          'messages',
          changed,
          (messages) => client.postMessages(task.id, messages),
          (older, newer) => [...new Map([...older, ...newer].map((x) => [x.id, x])).values()],
        ),
    });
    watcher.start();
  }

  async function run(): Promise<void> {
    const m = await fetchManifest();
    if (!m || shuttingDown) return;
    manifest = m;
    log.info({ workspace: m.workspace_name, build: m.build_number, apps: m.apps.map((a) => a.slug) }, 'manifest received');
    lifecycle('starting');
    const failure = await startApps(m);
    if (shuttingDown) return;
    if (failure) {
      log.error({ reason: failure }, 'workspace failed to start');
      lifecycle('start_error', failure);
    } else {
      lifecycle('ready');
    }
    watch(m);
    // an agent running elsewhere (external driver) learns this way that its workspace was stopped
    checkIn = setInterval(() => {
      client.getManifest().catch((err: unknown) => {
        if (err instanceof TaskdCallError && err.status === 401) superseded();
      });
    }, CHECK_IN_MS);
  }

  async function snapshotMessages(): Promise<AgentMessage[]> {
    if (!watcher) return [];
    let messages = watcher.conversation();
    if (messages.length === 0) messages = await watcher.fetchConversation().catch(() => []);
    return fitSnapshotMessages(messages);
  }

  async function shutdown(): Promise<void> {
    const budget = opts.shutdownReportMs ?? 6_000;
    clearInterval(checkIn);
    for (const c of checkers) c.stop();
    if (manifest) lifecycle('shutting_down');
    await watcher?.stop();
    const task = manifest?.task;
    const snapshot = await snapshotMessages();
    if (task && snapshot.length > 0) {
      queue.put('log-snapshot', snapshot, (messages) => client.uploadLogSnapshot(task.id, messages));
    }
    const sent = queue.flush(budget);
    await Promise.all(apps.map((a) => a.stop(opts.appStopGraceMs ?? 3_000)));
    await sent;
    if (manifest) lifecycle('off');
    await queue.flush(1_500);
    queue.stop();
    log.info('workspace agent stopped');
  }

  const started = run().catch((err: unknown) => {
    log.error({ err: (err as Error).message }, 'workspace agent could not start');
    throw err;
  });

  let markStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  const agent: WorkspaceAgent = {
    started,
    stopped,
    get manifest() {
      return manifest;
    },
    shutdown() {
      // a start still under way gets a moment to finish spawning, so no app is left behind
      shuttingDown ??= Promise.race([started.catch(() => undefined), new Promise((r) => setTimeout(r, 1_000))])
        .then(shutdown)
        .finally(markStopped);
      return shuttingDown;
    },
  };
  return agent;
}
