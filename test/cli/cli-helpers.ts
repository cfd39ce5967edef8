// Runs the taskd CLI as a subprocess, the way a user does — through the package's `taskd` bin —
// with a private HOME / config folder and TASKD_URL pointing at the test stack.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestStack } from '../helpers/stack';
import { deriveAgentToken } from '../../lib/agent-token';
import { waitFor } from '../helpers/wait';
import { scratchDir } from '../helpers/scratch';

const ROOT = path.resolve(__dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh user environment: its own HOME and XDG config folder, no inherited taskd settings. */
export function cliEnv(baseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  const home = scratchDir('taskd-cli-home-');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('TASKD_') && !k.startsWith('CODER_')) env[k] = v;
  }
  return { ...env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), TASKD_URL: baseUrl, ...extra };
}

export interface RunningCli {
  proc: ChildProcess;
  output(): CliResult;
  /** resolves once stdout matches (or rejects with what was printed so far) */
  waitForStdout(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<CliResult>;
}

export interface CliOptions {
  input?: string;
  /** run `node --import tsx cli/main.ts` (what `npm start` uses) instead of the installed bin */
  viaTsxImport?: boolean;
}

export function startCli(args: string[], env: Record<string, string>, opts: CliOptions = {}): RunningCli {
  const entry = opts.viaTsxImport ? ['--import', 'tsx', 'cli/main.ts'] : [path.join(ROOT, 'bin', 'taskd.js')];
  const proc = spawn(process.execPath, [...entry, ...args], { cwd: ROOT, env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  proc.stdin!.end(opts.input ?? '');
  const exited = new Promise<CliResult>((resolve) => proc.on('close', (code) => resolve({ code, stdout, stderr })));
  return {
    proc,
    output: () => ({ code: proc.exitCode, stdout, stderr }),
    exited,
    waitForStdout: (re, timeoutMs = 20_000) =>
      waitFor(() => re.exec(stdout)?.[0], { timeoutMs, intervalMs: 50, what: `CLI output ${re}; stdout: ${stdout}; stderr: ${stderr}` }),
  };
}

/** Runs a command to completion (killed after timeoutMs). */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  opts: CliOptions & { timeoutMs?: number } = {},
): Promise<CliResult> {
  const cli = startCli(args, env, opts);
  const timer = setTimeout(() => cli.proc.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  try {
    return await cli.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a command that must succeed; the assertion message carries its output. */
export async function cliOk(args: string[], env: Record<string, string>, opts: CliOptions & { timeoutMs?: number } = {}) {
  const res = await runCli(args, env, opts);
  if (res.code !== 0) throw new Error(`taskd ${args.join(' ')} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
  return res;
}

/** Logs the environment in as the first user (site owner) of a fresh stack, through the CLI. */
export async function loginFirstUser(env: Record<string, string>, username = 'owner'): Promise<void> {
  await cliOk(
    [
      'login',
      env.TASKD_URL!,
      '--first-user-username', username,
      '--first-user-email', `${username}@example.com`,
      '--first-user-password', 'first-user-pass-1',
    ],
    env,
  );
}

export function storedToken(env: Record<string, string>): string {
  const file = path.join(env.XDG_CONFIG_HOME!, 'taskd', 'credentials.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).session_token;
}

/** Plays the task app's status reporter: PATCH app-status with the agent token of the task's current agent. */
export async function reportAppState(
  stack: TestStack,
  agentId: string,
  body: { app_slug: string; state: string; message: string },
): Promise<void> {
  const token = await deriveAgentToken(stack.orm.em.fork() as never, agentId);
  const res = await stack.api('PATCH', '/api/v2/workspaceagents/me/app-status', { token, body });
  if (res.status !== 200) throw new Error(`app-status: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Resolves with the CLI's result once it exits on its own; rejects after `timeoutMs` with what it printed. */
export function exitWithin(cli: RunningCli, timeoutMs: number, what = 'the command'): Promise<CliResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end: ${cli.output().stdout}`)), timeoutMs);
  });
  return Promise.race([cli.exited, deadline]).finally(() => clearTimeout(timer));
}
