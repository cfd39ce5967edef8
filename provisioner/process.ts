import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../lib/logger';
import { appsOnLocalPorts } from './apps';
import { ProvisionerError, type BuildContext, type ProvisionedApp, type ProvisionerDriver, type ReconcileDecision, type StartOutcome } from './driver';
import { perKeyQueue } from './per-key-queue';
import { groupMembers, identify, leaderAlive, terminateGroup, type ProcessIdentity } from './process-group';

// A workspace is a process tree on this host: the taskd workspace agent (leader of its own process
// group, in its own session so a Ctrl-C in the worker's terminal does not reach it) and the apps
// it starts. Its folder <dataDir>/workspaces/<id> survives stop/start, so an AI agent's session
// survives pause/resume; taskd's own files live in <folder>/.taskd. The run record there (pid,
// start time, boot id, build) makes start idempotent across retries and worker restarts, and lets
// a restarted worker find the groups that should no longer run (and stop them) and the workspaces
// that should run but do not (after a reboot, or the dev launcher's Ctrl-C) and start them again.

export const REPO_ROOT = path.resolve(__dirname, '..');
const AGENT_MAIN = path.join(REPO_ROOT, 'agent', 'workspace-agent-main.ts');
export const DEFAULT_STOP_GRACE_MS = 10_000;

// The workspace gets a clean environment: the worker's own (database URL, webhook secret, API keys)
// is none of its business. Template env reaches the apps through the agent's manifest.
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'TERM'];

interface RunRecord extends ProcessIdentity {
  workspaceId: string;
  buildId: string;
  apps: ProvisionedApp[];
  startedAt: string;
}

export interface ProcessDriverOptions {
  dataDir: string;
  hostId: string;
  log: Logger;
  /** how long stop waits after SIGTERM before SIGKILL (the agent uploads its snapshot meanwhile) */
  stopGraceMs?: number;
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
  const recordFile = (id: string) => path.join(workspaceDir(id), '.taskd', 'run.json');

  function readRecord(workspaceId: string): RunRecord | null {
    try {
      return JSON.parse(fs.readFileSync(recordFile(workspaceId), 'utf8')) as RunRecord;
    } catch {
      return null;
    }
  }

  function writeRecord(record: RunRecord): void {
    const file = recordFile(record.workspaceId);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record, null, 2));
    fs.renameSync(tmp, file);
  }

  async function stopLocked(workspaceId: string, keepRecord = false): Promise<void> {
    const record = readRecord(workspaceId);
    if (!record) return;
    await terminate(record);
    if (!keepRecord) fs.rmSync(recordFile(workspaceId), { force: true });
  }

  async function terminate(record: RunRecord): Promise<void> {
    if (groupMembers(record).length === 0) return;
    log.info({ workspaceId: record.workspaceId, pid: record.pid }, 'stopping workspace');
    const gone = await terminateGroup(record, graceMs);
    if (!gone) throw new ProvisionerError(`workspace ${record.workspaceId}: processes survived SIGKILL`, true);
  }

  function spawnAgent(ctx: BuildContext, dir: string): number {
    if (!ctx.agent) throw new ProvisionerError('process provisioner: a start build needs an agent', false);
    const env: NodeJS.ProcessEnv = {};
    for (const k of INHERITED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
    Object.assign(env, {
      TASKD_URL: ctx.accessUrl,
      TASKD_AGENT_TOKEN: ctx.agent.token,
      TASKD_WORKSPACE_DIR: dir,
      TASKD_ROOT: REPO_ROOT,
    });
    const logDir = path.join(dir, '.taskd', 'logs');
    fs.mkdirSync(logDir, { recursive: true });
    const out = fs.openSync(path.join(logDir, 'agent.log'), 'a');
    try {
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
    } finally {
      fs.closeSync(out);
    }
  }

  async function startLocked(ctx: BuildContext): Promise<StartOutcome> {
    const dir = workspaceDir(ctx.workspaceId);
    fs.mkdirSync(path.join(dir, '.taskd'), { recursive: true });
    const existing = readRecord(ctx.workspaceId);
    const sameBuild = existing !== null && existing.buildId === ctx.buildId;
    if (sameBuild && leaderAlive(existing)) {
      return { apps: existing.apps, hostId: opts.hostId, agentLifecycle: 'created' };
    }
    // an older build's agent (its token no longer works) or the remains of one that died
    if (existing) await terminate(existing);
    // the same build keeps its ports: they are recorded in its apps' URLs already
    const apps = sameBuild ? existing.apps : await appsOnLocalPorts(ctx.definition);
    const pid = spawnAgent(ctx, dir);
    writeRecord({ ...identify(pid), workspaceId: ctx.workspaceId, buildId: ctx.buildId, apps, startedAt: new Date().toISOString() });
    log.info({ workspaceId: ctx.workspaceId, buildId: ctx.buildId, pid }, 'workspace started');
    return { apps, hostId: opts.hostId, agentLifecycle: 'created' };
  }

  function recordedWorkspaces(): string[] {
    let entries: string[];
    try {
      entries = fs.readdirSync(workspacesDir);
    } catch {
      return [];
    }
    return entries.filter((id) => fs.existsSync(recordFile(id)));
  }

  return {
    name: 'process',
    workspacesDir,
    workspaceDir,
    start: (ctx) => serialize(ctx.workspaceId, () => startLocked(ctx)),
    stop: (ctx) => serialize(ctx.workspaceId, () => stopLocked(ctx.workspaceId)),
    delete: (ctx) =>
      serialize(ctx.workspaceId, async () => {
        await stopLocked(ctx.workspaceId);
        fs.rmSync(workspaceDir(ctx.workspaceId), { recursive: true, force: true });
        log.info({ workspaceId: ctx.workspaceId }, 'workspace deleted');
      }),
    async stopAllWorkspaces() {
      await Promise.all(recordedWorkspaces().map((id) => serialize(id, () => stopLocked(id, true))));
    },
    async reconcile(decide) {
      const stopped: string[] = [];
      const restarted: string[] = [];
      for (const id of recordedWorkspaces()) {
        const record = readRecord(id);
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
