import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../lib/logger';

// A Docker daemon for the docker driver's tests: the one already answering on the socket, or
// Debian's dockerd started here when it is installed but not running (as root: there is no
// systemd to start it). The daemon is a machine service shared by every test run on the host, so
// it is left running afterwards, like PostgreSQL's packaged server would be. Its defaults work on
// these machines (overlay2 storage, iptables NAT); the address pool is made of /24 networks so
// that the one-network-per-workspace design is not capped at Docker's ~30 default /16 and /20 pools.

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
const START_TIMEOUT_MS = 60_000;

export type DockerDaemon =
  | { ok: true; socketPath: string }
  /** `broken`: dockerd is installed and this is root, so a daemon should have come up */
  | { ok: false; reason: string; broken: boolean };

export async function dockerAnswers(socketPath: string): Promise<boolean> {
  // loaded here, not at the top: the test preflight imports this module and must answer at once
  const { default: Docker } = await import('dockerode');
  try {
    await new Docker({ socketPath }).ping();
    return true;
  } catch {
    return false;
  }
}

export function findDockerd(): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin'])) {
    const candidate = path.join(dir, 'dockerd');
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return null;
}

/** The daemon at `socketPath`, started first if need be; `ok: false` says why there is none. */
export async function ensureDockerDaemon(opts: { log: Logger; socketPath?: string }): Promise<DockerDaemon> {
  const socketPath = opts.socketPath ?? DEFAULT_DOCKER_SOCKET;
  if (await dockerAnswers(socketPath)) return { ok: true, socketPath };
  if (socketPath !== DEFAULT_DOCKER_SOCKET) return { ok: false, reason: `no Docker daemon answers on ${socketPath}`, broken: false };
  const dockerd = findDockerd();
  if (!dockerd) return { ok: false, reason: 'dockerd is not installed (Debian: apt-get install docker.io)', broken: false };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'dockerd is installed but not running, and only root can start it', broken: false };

  const logFile = '/var/log/taskd-dockerd.log';
  opts.log.info({ logFile }, 'starting dockerd');
  const out = fs.openSync(logFile, 'a');
  // the daemon outlives whoever started it: a test run's private TMPDIR is not its to use
  const env = { ...process.env };
  delete env.TMPDIR;
  // two test runs may get here at once: the second dockerd finds the first's pid file and exits
  const child = spawn(dockerd, ['--default-address-pool', 'base=10.213.0.0/16,size=24'], {
    detached: true,
    stdio: ['ignore', out, out],
    env,
  });
  fs.closeSync(out);
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await dockerAnswers(socketPath)) return { ok: true, socketPath };
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
  return { ok: false, reason: `dockerd did not answer within ${START_TIMEOUT_MS / 1000} s; the end of ${logFile}:\n${tail}`, broken: true };
}
