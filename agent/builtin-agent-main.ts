// Runs the built-in agent as a standalone AI task app, the way a workspace runs agentapi.
// This is the one place its environment is read.

import { startBuiltinAgent } from './agentapi-server';
import { AGENTAPI_DEFAULT_PORT } from './agentapi-wire';

function intFromEnv(name: string, fallback: number | undefined, max: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new Error(`${name} must be an integer between 0 and ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Same syntax as agentapi's AGENTAPI_ALLOWED_HOSTS, so Coder's module settings carry over. */
function allowedHostsFromEnv(): string[] | '*' | undefined {
  const raw = process.env.AGENTAPI_ALLOWED_HOSTS?.trim();
  if (!raw) return undefined;
  const hosts = raw.split(/[\s,]+/).filter((h) => h.length > 0);
  return hosts.includes('*') ? '*' : hosts;
}

function main(): void {
  let config: Parameters<typeof startBuiltinAgent>[0];
  try {
    config = {
      port: intFromEnv('PORT', AGENTAPI_DEFAULT_PORT, 65535)!,
      host: process.env.TASKD_AGENT_HOST || undefined,
      stateFile: process.env.TASKD_AGENT_STATE_FILE || undefined,
      thinkMs: intFromEnv('TASKD_AGENT_THINK_MS', undefined, 600_000),
      settleMs: intFromEnv('TASKD_AGENT_SETTLE_MS', undefined, 600_000),
      agentType: process.env.TASKD_AGENT_TYPE || undefined,
      allowedHosts: allowedHostsFromEnv(),
    };
  } catch (err) {
    process.stderr.write(`builtin agent: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }

  startBuiltinAgent(config).then(
    (agent) => {
      process.stdout.write(`builtin agent listening on ${agent.url}\n`);
      let stopping = false;
      const stop = (signal: NodeJS.Signals): void => {
        if (stopping) {
          // A second signal means the operator is done waiting.
          process.stderr.write(`builtin agent: ${signal} again, exiting now\n`);
          process.exit(1);
        }
        stopping = true;
        agent.close().then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`builtin agent: shutdown failed: ${(err as Error).message}\n`);
            process.exit(1);
          },
        );
      };
      for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
      // Coder's stop script sends SIGUSR1 to ask for a save; state is already saved after every
      // change, and without a listener Node would open its debugger port instead.
      process.on('SIGUSR1', () => undefined);
    },
    (err: unknown) => {
      process.stderr.write(`builtin agent: failed to start: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}

main();
