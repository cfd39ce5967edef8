import { parseCommand, type CommandSpec } from './command';
import { authenticatedClient } from './credentials';
import { during } from './client';
import { columnOption, pickColumns, renderJson, renderTable, writeOut } from './output';
import { listTasks, TASK_STATUSES } from './tasks-api';
import { LIST_DEFAULT_COLUMNS, TASK_COLUMNS, taskRow } from './task-view';

// `taskd task list` (spec §8): your tasks by default, --user someone's, --all everything you can see.

export const listSpec: CommandSpec = {
  path: 'task list',
  summary: 'List tasks',
  aliases: ['ls'],
  options: {
    status: { type: 'string', description: 'Filter by task status.', choices: TASK_STATUSES },
    all: { type: 'boolean', short: 'a', description: 'List tasks of all users you can see.' },
    user: { type: 'string', description: 'List tasks of this user (username, id or "me").' },
    quiet: { type: 'boolean', short: 'q', description: 'Only display task IDs.' },
    column: columnOption(LIST_DEFAULT_COLUMNS, TASK_COLUMNS),
    output: { type: 'string', short: 'o', description: 'Output format.', default: 'table', choices: ['table', 'json'] },
  },
  examples: [
    ['List your tasks', 'taskd task list'],
    ['List the tasks of another user', 'taskd task list --user someone-else'],
    ['List all tasks you can see', 'taskd task list --all'],
    ['Only the IDs of your active tasks', 'taskd task list --status active --quiet'],
  ],
};

export async function runList(argv: string[]): Promise<void> {
  const parsed = parseCommand(listSpec, argv);
  if (!parsed) return;
  const { flags } = parsed;
  const columns = pickColumns(flags.strings('column'), LIST_DEFAULT_COLUMNS, TASK_COLUMNS, listSpec.path);
  const user = flags.string('user')?.trim();
  const owner = user || (flags.bool('all') ? undefined : 'me');
  const client = authenticatedClient();
  const tasks = await during('list tasks', () => listTasks(client, { owner, status: flags.string('status') }));

  if (flags.bool('quiet')) {
    for (const t of tasks) writeOut(t.id);
    return;
  }
  if (flags.string('output') === 'json') {
    writeOut(renderJson(tasks));
    return;
  }
  if (tasks.length === 0) {
    process.stderr.write('No tasks found.\n');
    return;
  }
  const now = Date.now();
  writeOut(renderTable(columns, tasks.map((t) => taskRow(t, { now }))));
}
