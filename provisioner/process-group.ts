import fs from 'node:fs';

// Identifying and signalling a workspace's process group safely. A pid file alone is not enough:
// after a reboot or a long time, the recorded pid may belong to an unrelated process. A process is
// "ours" only if the boot is the same and its start time (clock ticks since boot, from
// /proc/<pid>/stat) matches what was recorded when it was spawned.

export interface ProcessIdentity {
  pid: number;
  /** field 22 of /proc/<pid>/stat: fixed for the life of the process */
  startTime: string;
  bootId: string;
}

interface ProcStat {
  pid: number;
  state: string;
  pgrp: number;
  startTime: string;
}

const HAS_PROC = fs.existsSync('/proc/self/stat');

export function currentBootId(): string {
  if (!HAS_PROC) return 'unknown';
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function parseStat(pid: number, text: string): ProcStat | null {
  // the command name (field 2) may contain spaces and parentheses: parse from the last ')'
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const rest = text.slice(close + 2).split(' ');
  const state = rest[0];
  const pgrp = Number(rest[2]);
  const startTime = rest[19];
  if (!state || !Number.isInteger(pgrp) || !startTime) return null;
  return { pid, state, pgrp, startTime };
}

function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(pid, fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Identity of a process just spawned (its /proc entry exists as soon as spawn returns). */
export function identify(pid: number): ProcessIdentity {
  return { pid, startTime: readStat(pid)?.startTime ?? 'unknown', bootId: currentBootId() };
}

function signalAlive(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the recorded group leader is still that very process (not a zombie, not a reused pid). */
export function leaderAlive(id: ProcessIdentity): boolean {
  if (!HAS_PROC) return signalAlive(id.pid);
  if (id.bootId !== currentBootId()) return false;
  const stat = readStat(id.pid);
  return stat !== null && stat.startTime === id.startTime && stat.state !== 'Z';
}

/**
 * Live (non-zombie) members of the group led by `id`, leader or not. Empty when the group id has
 * been reused by another process since: then the group is not ours to signal.
 */
export function groupMembers(id: ProcessIdentity): number[] {
  if (!HAS_PROC) return signalAlive(-id.pid) ? [id.pid] : [];
  if (id.bootId !== currentBootId()) return [];
  const leader = readStat(id.pid);
  if (leader && leader.startTime !== id.startTime) return [];
  const members: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === id.pid && stat.state !== 'Z') members.push(stat.pid);
  }
  return members;
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function signalGroup(id: ProcessIdentity, sig: NodeJS.Signals): void {
  if (groupMembers(id).length > 0) signal(-id.pid, sig);
}

async function waitGone(id: ProcessIdentity, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (groupMembers(id).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * SIGTERM to the whole group (or to its leader alone, when the leader stops the rest itself), up to
 * `graceMs` for it to finish (the agent uploads its snapshot and stops its apps), then SIGKILL to
 * the group. Resolves true once no member is left.
 */
export async function terminateGroup(id: ProcessIdentity, graceMs: number, opts: { leaderOnly?: boolean } = {}): Promise<boolean> {
  if (groupMembers(id).length === 0) return true;
  if (opts.leaderOnly && leaderAlive(id)) signal(id.pid, 'SIGTERM');
  else signalGroup(id, 'SIGTERM');
  if (await waitGone(id, graceMs)) return true;
  signalGroup(id, 'SIGKILL');
  return waitGone(id, 5_000);
}
