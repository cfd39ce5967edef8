import { CliError, parseCommand, UsageError, type CommandSpec } from './command';
import { during } from './client';
import { authenticatedClient } from './credentials';
import { Progress } from './progress';
import { readAllStdin } from './prompt';
import { displayName, queueForTask, resolveTask, resumeTask, sendToTask } from './tasks-api';
import { waitForActive, waitForBuild, waitForIdle } from './task-wait';

// `taskd task send <task> [<input>]` (spec §8): a paused task is resumed first and a starting one
// waited for; then the CLI waits until the agent takes input (idle/complete/failed) and sends.

export const sendSpec: CommandSpec = {
  path: 'task send',
  args: '<task> [<input>]',
  summary: 'Send input to a task',
  description:
    'If the task is paused it is resumed first; if it is still starting, the CLI waits for it to become ready.\n' +
    'Progress is shown on stderr; Ctrl-C stops waiting and leaves the task as it is.',
  positionals: { min: 1, max: 2 },
  options: {
    stdin: { type: 'boolean', description: 'Read the input from stdin.' },
    queue: {
      type: 'boolean',
      description: 'Queue the input on the server and return at once: it is delivered in order when the agent is next idle (a paused task is resumed).',
    },
  },
  examples: [
    ['Send input to a task', 'taskd task send task1 "Please also add unit tests"'],
    ['Send input from stdin', 'echo "Please also add unit tests" | taskd task send task1 --stdin'],
    ['Queue input while the agent works', 'taskd task send --queue task1 "Then update the changelog"'],
  ],
};

export async function runSend(argv: string[]): Promise<void> {
  const parsed = parseCommand(sendSpec, argv);
  if (!parsed) return;
  const { flags, args } = parsed;
  let input: string;
  if (flags.bool('stdin')) {
    if (args.length > 1) throw new UsageError('give the input either as an argument or with --stdin, not both', sendSpec.path);
    input = await readAllStdin();
  } else {
    if (args.length !== 2) throw new UsageError('expected an input for the task (an argument, or --stdin)', sendSpec.path);
    input = args[1];
  }

  const client = authenticatedClient();
  let task = await resolveTask(client, args[0]);
  const display = displayName(task);
  if (flags.bool('queue')) {
    const queued = await during(`queue input for task "${display}"`, () => queueForTask(client, task, input));
    process.stdout.write(`Queued input ${queued.id} for task "${display}"; it is delivered when the agent is next idle.\n`);
    return;
  }
  const progress = new Progress();
  try {
    switch (task.status) {
      case 'active':
        break;
      case 'paused': {
        const build = await during(`resume task "${display}"`, () => resumeTask(client, task));
        progress.set('Resuming task');
        task = await waitForBuild(client, task, build, progress);
        task = await waitForActive(client, task, progress);
        break;
      }
      // Coder's CLI refuses "pending" (the first build has not started yet); waiting for it like
      // "initializing" is what a user who runs create && send means
      case 'pending':
      case 'initializing':
        if (!task.workspace_id) throw new CliError(`send input to task "${display}": task has no backing workspace`);
        task = await waitForActive(client, task, progress);
        break;
      default:
        throw new CliError(`task "${display}" has status ${task.status} and cannot be sent input`);
    }
    task = await waitForIdle(client, task, progress);
    progress.stop();
    await during(`send input to task "${display}"`, () => sendToTask(client, task, input));
  } finally {
    progress.stop();
  }
}
