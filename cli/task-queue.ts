import { parseCommand, UsageError, type CommandSpec } from './command';
import { during } from './client';
import { authenticatedClient } from './credentials';
import { outputOption, renderJson, renderTable, ago, writeOut } from './output';
import { cancelQueuedInput, displayName, queuedInputs, resolveTask } from './tasks-api';

// `taskd task queue <task> [--cancel <id>]` (beyond Coder): the inputs `task send --queue` left
// waiting for the agent, oldest first; --cancel drops one that is not being delivered yet.

export const queueSpec: CommandSpec = {
  path: 'task queue',
  args: '<task>',
  summary: 'List the inputs queued for a task, or cancel one',
  positionals: { min: 1, max: 1 },
  options: {
    cancel: { type: 'string', description: 'Cancel the queued input with this id.' },
    output: outputOption(),
  },
  examples: [
    ['List queued inputs', 'taskd task queue task1'],
    ['Cancel one', 'taskd task queue task1 --cancel 6f1c…'],
  ],
};

export async function runQueue(argv: string[]): Promise<void> {
  const parsed = parseCommand(queueSpec, argv);
  if (!parsed) return;
  const { flags, args } = parsed;
  const client = authenticatedClient();
  const task = await resolveTask(client, args[0]!);
  const display = displayName(task);
  const cancel = flags.string('cancel');
  if (cancel !== undefined) {
    if (cancel === '') throw new UsageError('--cancel needs the id of a queued input', queueSpec.path);
    await during(`cancel queued input ${cancel} of task "${display}"`, () => cancelQueuedInput(client, task, cancel));
    writeOut(`Cancelled queued input ${cancel} of task "${display}".\n`);
    return;
  }
  const list = await during(`list queued inputs of task "${display}"`, () => queuedInputs(client, task));
  if (flags.string('output') === 'json') {
    writeOut(renderJson(list));
    return;
  }
  writeOut(
    renderTable(
      ['id', 'state', 'queued', 'input'],
      list.map((q) => ({ id: q.id, state: q.state, queued: ago(q.created_at), input: q.input.split('\n')[0]!.slice(0, 60) })),
    ) + '\n',
  );
}
