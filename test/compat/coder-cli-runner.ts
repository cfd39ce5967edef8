// Runs the real `coder` CLI the way a Coder user does in a script: CODER_URL and
// CODER_SESSION_TOKEN in the environment (no interactive login), a private config folder, no TTY.
// Steps of a scenario become checks for the ratchet: a step passes when its function returns.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CheckResult } from './ratchet';

export interface CoderRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CoderCli {
  run(args: string[], opts?: { timeoutMs?: number }): Promise<CoderRun>;
  /** removes the private HOME */
  close(): void;
}

export function coderCli(binary: string, url: string, token: string): CoderCli {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-coder-home-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CODER_') && !k.startsWith('TASKD_')) env[k] = v;
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    CODER_CONFIG_DIR: path.join(home, '.config', 'coderv2'),
    CODER_URL: url,
    CODER_SESSION_TOKEN: token,
    NO_COLOR: '1',
  });
  return {
    close: () => fs.rmSync(home, { recursive: true, force: true }),
    run(args, opts = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    },
  };
}

/** Fails with the command's whole output unless it exited 0 and its output matches every pattern. */
export function expectRun(res: CoderRun, ...patterns: RegExp[]): void {
  const missing = patterns.filter((p) => !p.test(`${res.stdout}\n${res.stderr}`));
  if (res.code !== 0 || missing.length > 0) {
    throw new Error(`exit ${res.code}${missing.length ? `, output lacks ${missing.join(', ')}` : ''}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
  }
}

/** Fails unless the command exited non-zero with stderr matching `pattern`. */
export function expectRefusal(res: CoderRun, pattern: RegExp): void {
  if (res.code === 0 || !pattern.test(res.stderr)) {
    throw new Error(`exit ${res.code}, want an error matching ${pattern}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
  }
}

/** Collects scenario steps as checks; a step that throws is a failed check with the error as detail. */
export class Steps {
  readonly results: CheckResult[] = [];
  async step(name: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      this.results.push({ name, ok: true });
      return true;
    } catch (err) {
      this.results.push({ name, ok: false, detail: (err as Error).message });
      return false;
    }
  }

  /**
   * Brings the stack to where the next step starts (a task idle, paused…) without being a check
   * itself: when it cannot, the steps that need it fail and say why.
   */
  async settle(fn: () => Promise<unknown>): Promise<void> {
    await fn().catch(() => {});
  }
}
