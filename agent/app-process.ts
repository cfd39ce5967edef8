import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// One app the agent runs: a shell command in the workspace folder with its own log file. The app
// stays in the agent's process group (so the provisioner's group kill reaches it even if the agent
// dies), and is stopped by signalling its whole subtree, found through /proc, because the shell
// may have forked the real server as a grandchild.

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class AppProcess {
  readonly exited: Promise<AppExit>;
  private exit: AppExit | null = null;
  private readonly child: ChildProcess;

  constructor(
    readonly slug: string,
    command: string,
    opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
  ) {
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const out = fs.openSync(opts.logFile, 'a');
    try {
      fs.writeSync(out, `--- ${new Date().toISOString()} starting: ${command}\n`);
      this.child = spawn('/bin/sh', ['-c', command], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', out, out] });
    } finally {
      fs.closeSync(out);
    }
    this.exited = new Promise((resolve) => {
      // 'error' (spawn failed) may come without 'exit'; either settles the app as gone
      this.child.once('error', () => resolve((this.exit = { code: 127, signal: null })));
      this.child.once('exit', (code, signal) => resolve((this.exit = { code, signal })));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): AppExit | null {
    return this.exit;
  }

  /** SIGTERM to the app and its descendants, SIGKILL to what is left after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.exit || this.child.pid === undefined) return;
    const tree = descendantsOf(this.child.pid);
    signalAll([this.child.pid, ...tree], 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      if ([this.child.pid, ...tree].every((pid) => !alive(pid))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    signalAll([this.child.pid, ...tree, ...descendantsOf(this.child.pid)], 'SIGKILL');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 1_000))]);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // an exited child not yet reaped still answers signals: it is a zombie, not alive
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return true;
  }
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Every descendant of `root` (children first found by walking parent pids in /proc). */
function descendantsOf(root: number): number[] {
  const parentOf = new Map<number, number>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited while we looked
    }
  }
  const result: number[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [pid, ppid] of parentOf) {
      if (ppid === parent) {
        result.push(pid);
        frontier.push(pid);
      }
    }
  }
  return result;
}
