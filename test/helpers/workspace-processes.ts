// Processes of a process-driver workspace, found from the host the way an operator would: by the
// folder they work in. A sandbox shows that folder as /workspace, so it is matched by device and
// inode, which the sandbox's mount shares with the host folder; and by the run record's process
// group, which holds the supervisor and bubblewrap too.
import fs from 'node:fs';
import path from 'node:path';
import { groupMembers, type ProcessIdentity } from '../../provisioner/process-group';

export function processesIn(dir: string): number[] {
  let want: fs.Stats;
  try {
    want = fs.statSync(dir);
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = fs.statSync(`/proc/${entry}/cwd`);
      if (cwd.dev === want.dev && cwd.ino === want.ino) found.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

export interface WorkspaceRecord extends ProcessIdentity {
  buildId: string;
  apps: { slug: string; url: string }[];
  sandbox?: string;
}

export function runRecord(dataDir: string, workspaceId: string): WorkspaceRecord | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, 'workspace-state', workspaceId, 'run.json'), 'utf8'));
  } catch {
    return null;
  }
}

/** Every live process of the workspace: its recorded group and whatever works in its folder. */
export function workspaceProcesses(dataDir: string, workspaceId: string): number[] {
  const record = runRecord(dataDir, workspaceId);
  const group = record ? groupMembers(record) : [];
  return [...new Set([...group, ...processesIn(path.join(dataDir, 'workspaces', workspaceId))])];
}

/** Those of `pids` still running (a zombie has ended: it only waits for its parent to notice). */
export function stillRunning(pids: number[]): string[] {
  return pids.flatMap((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z' ? [] : [stat];
    } catch {
      return [];
    }
  });
}
