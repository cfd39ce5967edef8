import { parseCommand, parseDuration, type CommandSpec } from './command';
import { authenticatedClient } from './credentials';
import { columnOption, pickColumns, renderJson, renderTable, writeOut } from './output';
import { displayName, getTask, resolveTask, type Task } from './tasks-api';
import { followTask } from './task-events';
import { STATUS_DEFAULT_COLUMNS, TASK_COLUMNS, taskRow, watchIsOver, watchKey } from './task-view';
import { sleep } from './task-wait';

// `taskd task status <task> [--watch]` (spec §8). With --watch it prints a row only when status,
// health, state or message changed, until the workspace stopped or the task is done with its
// current work (agent up, state reported and not "working"). Changes come from the task's watch
// stream (cli/task-events.ts); against a server without one it polls.

export const statusSpec: CommandSpec = {
  path: 'task status',
  args: '<task>',
  summary: 'Show the status of a task',
  aliases: ['stat'],
  positionals: { min: 1, max: 1 },
  options: {
    watch: {
      type: 'boolean',
      description: 'Keep printing status changes until the workspace stops or the task waits for input.',
    },
    'watch-interval': { type: 'string', description: 'Polling interval of --watch when the server cannot stream.', default: '1s', hidden: true },
    column: columnOption(STATUS_DEFAULT_COLUMNS, TASK_COLUMNS),
    output: { type: 'string', short: 'o', description: 'Output format.', default: 'table', choices: ['table', 'json'] },
  },
  examples: [
    ['Show the status of a task', 'taskd task status task1'],
    ['Watch a task until it is idle or stopped', 'taskd task status task1 --watch'],
  ],
};

export async function runStatus(argv: string[]): Promise<void> {
  const parsed = parseCommand(statusSpec, argv);
  if (!parsed) return;
  const { flags, args } = parsed;
  const columns = pickColumns(flags.strings('column'), STATUS_DEFAULT_COLUMNS, TASK_COLUMNS, statusSpec.path);
  const interval = parseDuration(flags.string('watch-interval') ?? '1s', 'watch-interval', statusSpec.path);
  const json = flags.string('output') === 'json';
  const widths: number[] = [];
  const print = (t: Task, header: boolean) =>
    writeOut(json ? renderJson(t) : renderTable(columns, [taskRow(t, { changedFallback: true })], { header, widths }));

  const client = authenticatedClient();
  let task = await resolveTask(client, args[0]);
  print(task, true);
  if (!flags.bool('watch') || watchIsOver(task)) return;

  let last = watchKey(task);
  const end = await followTask(client, task, {
    onTask(t) {
      const key = watchKey(t);
      if (key !== last) print(t, false);
      last = key;
      return watchIsOver(t);
    },
  });
  if (end === 'deleted') {
    process.stderr.write(`Task ${displayName(task)} was deleted.\n`);
    return;
  }
  if (end === 'done') return;
  for (;;) {
    await sleep(interval);
    task = await getTask(client, task.id);
    const key = watchKey(task);
    if (key !== last) print(task, false);
    if (watchIsOver(task)) return;
    last = key;
  }
}
