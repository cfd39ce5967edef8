// Entry of the workspace agent: `taskd agent --url <taskd URL> --token <agent token> [--dir <folder>]`,
// or `node --import tsx agent/workspace-agent-main.ts` with TASKD_URL / TASKD_AGENT_TOKEN /
// TASKD_WORKSPACE_DIR (how the process driver starts it). Flags win over the environment. This is
// the one place the agent's environment is read.

import { createLogger } from '../lib/logger';
import { startWorkspaceAgent } from './workspace-agent';

export interface AgentCliOptions {
  url: string;
  token: string;
  workspaceDir: string;
}

export const AGENT_USAGE = 'usage: taskd agent --url <taskd URL> --token <agent token> [--dir <workspace folder>]';

/** Flags `--url`, `--token`, `--dir` (also as --flag=value); throws with the usage on bad input. */
export function parseAgentArgs(argv: readonly string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): AgentCliOptions {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--(url|token|dir)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${JSON.stringify(arg)}\n${AGENT_USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') throw new Error(`--${m[1]} needs a value\n${AGENT_USAGE}`);
    flags[m[1]!] = value;
  }
  const url = flags.url ?? env.TASKD_URL;
  const token = flags.token ?? env.TASKD_AGENT_TOKEN;
  if (!url || !token) throw new Error(`the taskd URL and the agent token are required\n${AGENT_USAGE}`);
  try {
    new URL(url);
  } catch {
    throw new Error(`--url must be a URL, got ${JSON.stringify(url)}`);
  }
  return { url, token, workspaceDir: flags.dir ?? env.TASKD_WORKSPACE_DIR ?? cwd };
}

/** Runs the agent until SIGTERM/SIGINT/SIGHUP; resolves with the process exit code. */
export async function runAgentCli(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let options: AgentCliOptions;
  try {
    options = parseAgentArgs(argv, env);
  } catch (err) {
    process.stderr.write(`taskd agent: ${(err as Error).message}\n`);
    return 2;
  }
  const log = createLogger(env.LOG_LEVEL ?? 'info', 'workspace-agent');
  const agent = startWorkspaceAgent({ ...options, log, baseEnv: env });
  return new Promise<number>((resolve) => {
    let signalled = false;
    let failedToStart = false;
    const stop = (signal: NodeJS.Signals) => {
      if (signalled) {
        log.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      signalled = true;
      log.info({ signal }, 'stopping');
      void agent.shutdown();
    };
    for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, stop);
    agent.started.catch(() => {
      // the server refused this agent (bad token, superseded build): nothing to run
      failedToStart = true;
      void agent.shutdown();
    });
    // also when the server ends it: the workspace was stopped while this agent ran elsewhere
    void agent.stopped.then(() => resolve(failedToStart ? 1 : 0));
  });
}

if (require.main === module) {
  runAgentCli().then((code) => process.exit(code));
}
