import { ApiRequestError, ConnectionError } from './client';
import { CliError, UsageError } from './command';
import { stopAllProgress } from './progress';

// Runs one client command: failures become a message on stderr and a non-zero exit code (the
// server's message, detail and validations for API errors); Ctrl-C just ends the CLI — whatever
// the task was doing, it goes on doing on the server.

export function describeError(err: unknown): string {
  if (err instanceof ApiRequestError) {
    const head = [...err.context, err.message].join(': ');
    const hint = err.status === 401 ? '\nYour session may have expired: run "taskd login <url>" again.' : '';
    return `${head}${hint}`;
  }
  if (err instanceof UsageError) return `${err.message}\nRun "taskd ${err.commandPath} --help" for usage.`;
  if (err instanceof CliError || err instanceof ConnectionError) return err.message;
  return (err as Error)?.stack ?? String(err);
}

export async function runCommand(fn: () => Promise<void>): Promise<void> {
  const onInterrupt = () => {
    stopAllProgress();
    process.stderr.write('\nInterrupted.\n');
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  try {
    await fn();
  } catch (err) {
    stopAllProgress();
    process.stderr.write(`taskd: ${describeError(err)}\n`);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
