import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { EgressPolicy } from '../domain/egress-policy';
import type { Logger } from '../lib/logger';
import { appsOnLocalPorts } from './apps';
import { ProvisionerError, type BuildContext, type ProvisionedApp, type ProvisionerDriver, type ReconcileDecision, type StartOutcome } from './driver';
import { perKeyQueue } from './per-key-queue';
import { groupMembers, identify, leaderAlive, terminateGroup } from './process-group';
import { createRecordStore, type RunRecord } from './process-records';
import { createSandboxHost } from './sandbox/sandbox-host';

// A workspace is a process tree on this host, the leader of its own process group, in its own
// session so a Ctrl-C in the worker's terminal does not reach it. By default it runs in a
// bubblewrap sandbox (sandbox/): the leader is the workspace's supervisor, the workspace agent and
// its apps run inside. A template with "sandbox": "none" runs the agent itself as the leader, as the
// worker's user. Its folder <dataDir>/workspaces/<id> survives stop/start, so an AI agent's session
// survives pause/resume. The run record (process-records.ts) makes start idempotent across retries
// and worker restarts, and lets a restarted worker find the groups that should no longer run (and
// stop them) and the workspaces that should run but do not (after a reboot, or the dev launcher's
// Ctrl-C) and start them again.

export const REPO_ROOT = path.resolve(__dirname, '..');
const AGENT_MAIN = path.join(REPO_ROOT, 'agent', 'workspace-agent-main.ts');
export const DEFAULT_STOP_GRACE_MS = 10_000;

// The workspace gets a clean environment: the worker's own (database URL, webhook secret, API keys)
// is none of its business. Template env reaches the apps through the agent's manifest.
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'TERM'];

export interface ProcessDriverOptions {
  dataDir: string;
  hostId: string;
  log: Logger;
  /** how long stop waits after SIGTERM before SIGKILL (the agent uploads its snapshot meanwhile) */
  stopGraceMs?: number;
  /** what sandboxed workspaces reach on the internet (default: public addresses) */
  egress?: EgressPolicy;
}

export interface ProcessDriver extends ProvisionerDriver {
  readonly workspacesDir: string;
  workspaceDir(workspaceId: string): string;
  /**
   * Stops every workspace this host runs, keeping their records so the next worker start brings
   * them back; for the dev launcher's Ctrl-C (a worker that merely shuts down leaves them running).
   */
  stopAllWorkspaces(): Promise<void>;
  /** On worker start: each recorded workspace is kept, stopped (it should not run) or restarted. */
  reconcile(decide: ReconcileDecision): Promise<{ stopped: string[]; restarted: string[] }>;
}

export function createProcessDriver(opts: ProcessDriverOptions): ProcessDriver {
  const workspacesDir = path.join(opts.dataDir, 'workspaces');
  const graceMs = opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
  const log = opts.log.child({ component: 'process-provisioner' });
  const serialize = perKeyQueue();

  const workspaceDir = (id: string) => path.join(workspacesDir, id);
  const records = createRecordStore(opts.dataDir, workspacesDir);
  const sandbox = createSandboxHost({ dataDir: opts.dataDir, workspacesDir, stateRoot: records.root, egress: opts.egress ?? { mode: 'public' } });

  async function stopLocked(workspaceId: string, keepRecord = false): Promise<void> {
    const record = records.read(workspaceId);
    if (!record) return;
    await terminate(record);
    if (!keepRecord) records.remove(workspaceId);
  }

  async function terminate(record: RunRecord): Promise<void> {
    if (groupMembers(record).length === 0) return;
    log.info({ workspaceId: record.workspaceId, pid: record.pid }, 'stopping workspace');
    // a supervisor asks the agent in its sandbox to stop: a SIGTERM to the whole group would end
    // bubblewrap, and with it the sandbox, before the agent uploaded its snapshot
    const gone = await terminateGroup(record, graceMs, { leaderOnly: record.sandbox === 'bubblewrap' });
    if (!gone) throw new ProvisionerError(`workspace ${record.workspaceId}: processes survived SIGKILL`, true);
  }

  function spawnAgent(ctx: BuildContext, agentToken: string, dir: string, out: number): number {
    log.warn(
      { workspaceId: ctx.workspaceId },
      'workspace runs unsandboxed (its template sets "sandbox": "none"): its code can read and signal whatever the worker can',
    );
    const env: NodeJS.ProcessEnv = {};
    for (const k of INHERITED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
    Object.assign(env, {
      TASKD_URL: ctx.accessUrl,
      TASKD_AGENT_TOKEN: agentToken,
      TASKD_WORKSPACE_DIR: dir,
      TASKD_ROOT: REPO_ROOT,
    });
    // tsx is resolved from the repo: the workspace folder has no node_modules
    const child = spawn(process.execPath, ['--import', require.resolve('tsx'), AGENT_MAIN], {
      cwd: dir,
      env,
      detached: true,
      stdio: ['ignore', out, out],
    });
    child.on('error', (err) => log.error({ err, workspaceId: ctx.workspaceId }, 'workspace agent failed to spawn'));
    child.unref();
    if (child.pid === undefined) throw new ProvisionerError('process provisioner: the workspace agent did not start', true);
    return child.pid;
  }

  async function spawnWorkspace(ctx: BuildContext, apps: ProvisionedApp[]): Promise<{ pid: number; sandbox: 'bubblewrap' | 'none' }> {
    if (!ctx.agent) throw new ProvisionerError('process provisioner: a start build needs an agent', false);
    const mode = ctx.definition.sandbox ?? 'bubblewrap';
    ctx.progress?.(
      mode === 'none'
        ? 'Starting the workspace agent unsandboxed (the template sets "sandbox": "none"): it can reach whatever the worker can'
        : 'Starting the workspace agent in a bubblewrap sandbox: its own user, processes, network and file system',
      mode === 'none' ? 'warn' : 'info',
    );
    const dir = workspaceDir(ctx.workspaceId);
    const stateDir = records.stateDir(ctx.workspaceId);
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    if (mode === 'bubblewrap') {
      const problem = await sandbox.unavailable();
      if (problem !== null) throw new ProvisionerError(problem, false);
    }
    const out = fs.openSync(records.logFile(ctx.workspaceId), 'a');
    try {
      if (mode === 'none') {
        fs.mkdirSync(dir, { recursive: true });
        return { pid: spawnAgent(ctx, ctx.agent.token, dir, out), sandbox: mode };
      }
      // the apps the agent runs on a loopback port: those the host must reach inside the sandbox
      const appPorts = apps.flatMap((a) => {
        const url = a.command === null || a.url === '' ? null : new URL(a.url);
        return url && url.hostname === '127.0.0.1' && url.port !== '' ? [Number(url.port)] : [];
      });
      const pid = sandbox.launch({
        workspaceId: ctx.workspaceId,
        workspaceDir: dir,
        stateDir,
        accessUrl: ctx.accessUrl,
        agentToken: ctx.agent.token,
        appPorts,
        logFd: out,
      });
      return { pid, sandbox: mode };
    } finally {
      fs.closeSync(out);
    }
  }

  async function startLocked(ctx: BuildContext): Promise<StartOutcome> {
    const existing = records.read(ctx.workspaceId);
    const sameBuild = existing !== null && existing.buildId === ctx.buildId;
    if (sameBuild && leaderAlive(existing)) {
      ctx.progress?.(`The workspace of this build already runs (process ${existing.pid}): kept as it is`);
      return { apps: existing.apps, hostId: opts.hostId, agentLifecycle: 'created' };
    }
    // an older build's agent (its token no longer works) or the remains of one that died
    if (existing) {
      ctx.progress?.('Stopping what an earlier build left running');
      await terminate(existing);
    }
    // the same build keeps its ports: they are recorded in its apps' URLs already
    const apps = sameBuild ? existing.apps : await appsOnLocalPorts(ctx.definition);
    const { pid, sandbox: mode } = await spawnWorkspace(ctx, apps);
    ctx.progress?.(`Workspace agent running as process ${pid} on host ${opts.hostId}`);
    records.write({ ...identify(pid), workspaceId: ctx.workspaceId, buildId: ctx.buildId, apps, startedAt: new Date().toISOString(), sandbox: mode });
    log.info({ workspaceId: ctx.workspaceId, buildId: ctx.buildId, pid, sandbox: mode }, 'workspace started');
    return { apps, hostId: opts.hostId, agentLifecycle: 'created' };
  }

  return {
    name: 'process',
    workspacesDir,
    workspaceDir,
    start: (ctx) => serialize(ctx.workspaceId, () => startLocked(ctx)),
    stop: (ctx) =>
      serialize(ctx.workspaceId, () => {
        ctx.progress?.(`Stopping the workspace agent (it has ${Math.round(graceMs / 1000)} s to save its conversation)`);
        return stopLocked(ctx.workspaceId);
      }),
    delete: (ctx) =>
      serialize(ctx.workspaceId, async () => {
        ctx.progress?.('Stopping the workspace agent and removing the workspace folder');
        await stopLocked(ctx.workspaceId);
        fs.rmSync(workspaceDir(ctx.workspaceId), { recursive: true, force: true });
        sandbox.release(ctx.workspaceId, records.stateDir(ctx.workspaceId));
        fs.rmSync(records.stateDir(ctx.workspaceId), { recursive: true, force: true });
        log.info({ workspaceId: ctx.workspaceId }, 'workspace deleted');
      }),
    async stopAllWorkspaces() {
      await Promise.all(records.list().map((id) => serialize(id, () => stopLocked(id, true))));
    },
    async reconcile(decide) {
      const stopped: string[] = [];
      const restarted: string[] = [];
      const problem = await sandbox.unavailable();
      if (problem !== null) log.warn(problem);
      for (const id of records.list()) {
        const record = records.read(id);
        if (!record) continue;
        // a dead agent with live apps is not running: a restart replaces the remains
        const running = leaderAlive(record);
        const decision = await decide({ workspaceId: id, buildId: record.buildId, running });
        if (decision.action === 'stop') {
          const hadProcesses = groupMembers(record).length > 0;
          await serialize(id, () => stopLocked(id));
          if (hadProcesses) stopped.push(id);
        } else if (decision.action === 'restart') {
          await serialize(id, () => startLocked(decision.ctx));
          restarted.push(id);
        }
      }
      if (stopped.length > 0) log.info({ workspaces: stopped }, 'stopped workspaces that should not run');
      if (restarted.length > 0) log.info({ workspaces: restarted }, 'restarted workspaces that should run');
      return { stopped, restarted };
    },
  };
}

/** For the dev launcher when it has no driver at hand: stops every workspace under `dataDir`. */
export async function stopAllWorkspaces(opts: { dataDir: string; log: Logger; stopGraceMs?: number }): Promise<void> {
  await createProcessDriver({ ...opts, hostId: 'launcher' }).stopAllWorkspaces();
}
