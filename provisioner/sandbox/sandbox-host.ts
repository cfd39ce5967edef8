import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { EgressPolicy } from '../../domain/egress-policy';
import { runCommand } from '../../devstack/processes';
import { SPEC_ENV, type SandboxSpec } from './bridge';
import { identityFiles, namespaceArgs, systemArgs } from './bwrap-args';
import { UID_BASE, ownFolder, releaseUid, runsAsRoot, workspaceUid } from './workspace-users';

// The worker's side of workspace sandboxes: whether bubblewrap works on this host at all, and
// starting a workspace's supervisor (which starts bubblewrap) as the workspace's user.

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SUPERVISOR_MAIN = path.join(__dirname, 'supervisor-main.ts');
const PROBE_TIMEOUT_MS = 15_000;
// the variables of the worker's environment a workspace may see; the rest (database URL, API keys) is not its business
const PASSED_ENV = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TERM', 'LOG_LEVEL'];

export interface SandboxLaunch {
  workspaceId: string;
  workspaceDir: string;
  /** the workspace's state folder: where its uid is recorded */
  stateDir: string;
  accessUrl: string;
  agentToken: string;
  appPorts: number[];
  /** descriptor of the file the supervisor and the agent log to */
  logFd: number;
}

export interface SandboxHost {
  /** null when workspaces can be sandboxed here, else why not (said in words an operator can act on) */
  unavailable(): Promise<string | null>;
  /** starts the workspace's supervisor, detached; returns its pid */
  launch(opts: SandboxLaunch): number;
  /** forgets the workspace's user and temporary files once the workspace is deleted */
  release(workspaceId: string, stateDir: string): void;
}

export function createSandboxHost(opts: { dataDir: string; workspacesDir: string; stateRoot: string; egress: EgressPolicy }): SandboxHost {
  const claimsDir = path.join(opts.stateRoot, 'uids');
  const identityDir = path.join(opts.stateRoot, 'identity');
  const tmpRoot = path.join(opts.stateRoot, 'tmp');
  const nodePrefix = path.dirname(path.dirname(process.execPath));
  const readOnly = [REPO_ROOT, ...(nodePrefix === '/usr' ? [] : [nodePrefix])];
  // the data folder is in the checkout under `npm start`: it must not show through the checkout's mount
  const hidden = [opts.dataDir].filter((d) => readOnly.some((r) => d.startsWith(r + path.sep)));
  const userOf = (uid: number) => (runsAsRoot() ? { uid, gid: uid } : {});
  let works = false;

  function prepareShared(): void {
    fs.mkdirSync(opts.workspacesDir, { recursive: true });
    fs.mkdirSync(identityDir, { recursive: true });
    fs.mkdirSync(tmpRoot, { recursive: true });
    // workspace users reach their folders, the identity files and their temporary folders through
    // these; taskd's own folders they cannot list
    for (const dir of [opts.workspacesDir, opts.stateRoot, tmpRoot]) fs.chmodSync(dir, 0o711);
    fs.chmodSync(identityDir, 0o755);
    for (const [name, text] of Object.entries(identityFiles())) fs.writeFileSync(path.join(identityDir, name), text, { mode: 0o644 });
  }

  async function probe(): Promise<string | null> {
    const args = [...namespaceArgs(), ...systemArgs()];
    for (const dir of readOnly) args.push('--ro-bind', dir, dir);
    args.push('--ro-bind', opts.workspacesDir, '/workspace', '--ro-bind', identityDir, '/run/identity', '--', 'true');
    try {
      const result = await runCommand('bwrap', args, { ...userOf(UID_BASE), timeoutMs: PROBE_TIMEOUT_MS });
      return result.code === 0 ? null : result.stderr.trim() || `bwrap exited with ${result.code ?? result.signal}`;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'bubblewrap (bwrap) is not installed' : (err as Error).message;
    }
  }

  return {
    async unavailable() {
      if (works) return null;
      prepareShared();
      const problem = await probe();
      works = problem === null;
      if (works) return null;
      const user = runsAsRoot() ? `the workspace users (uid ${UID_BASE} and up)` : 'this user';
      return (
        `workspace sandbox unavailable: ${problem}. Install bubblewrap (Debian: apt-get install bubblewrap), ` +
        `make sure ${user} can reach ${REPO_ROOT} and ${opts.workspacesDir} (chmod o+x on each folder above them), ` +
        `or set "sandbox": "none" in the template to run its workspaces unsandboxed`
      );
    },

    launch(o) {
      const uid = runsAsRoot() ? workspaceUid(path.join(o.stateDir, 'uid'), claimsDir, o.workspaceId) : process.getuid!();
      if (runsAsRoot()) ownFolder(o.workspaceDir, uid);
      else fs.mkdirSync(o.workspaceDir, { recursive: true, mode: 0o700 });
      const env: Record<string, string> = {};
      for (const k of PASSED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
      // the supervisor's own temporary files (its TypeScript cache): kept with the workspace's state, gone with it
      const tmp = path.join(tmpRoot, o.workspaceId);
      fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
      if (runsAsRoot()) fs.chownSync(tmp, uid, uid);
      const spec: SandboxSpec = {
        workspaceId: o.workspaceId,
        workspaceDir: o.workspaceDir,
        readOnly,
        hidden,
        identityDir,
        accessUrl: o.accessUrl,
        agentToken: o.agentToken,
        appPorts: o.appPorts,
        egress: opts.egress,
        env,
      };
      const child = spawn(process.execPath, ['--import', require.resolve('tsx'), SUPERVISOR_MAIN], {
        ...userOf(uid),
        cwd: '/',
        env: { ...env, TMPDIR: tmp, [SPEC_ENV]: JSON.stringify(spec) },
        detached: true,
        stdio: ['ignore', o.logFd, o.logFd],
      });
      child.unref();
      if (child.pid === undefined) throw new Error('the workspace supervisor did not start');
      return child.pid;
    },

    release(workspaceId, stateDir) {
      if (runsAsRoot()) releaseUid(path.join(stateDir, 'uid'), claimsDir);
      fs.rmSync(path.join(tmpRoot, workspaceId), { recursive: true, force: true });
    },
  };
}
