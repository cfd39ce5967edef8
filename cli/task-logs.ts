import { parseCommand, parseDuration, type CommandSpec } from './command';
import { ApiRequestError, during } from './client';
import { authenticatedClient } from './credentials';
import { columnOption, pickColumns, renderJson, renderTable, writeOut } from './output';
import { resolveTask, taskLogs, type TaskLogEntry } from './tasks-api';
import { LOG_COLUMNS, LOG_DEFAULT_COLUMNS, logRow } from './task-view';
import { sleep } from './task-wait';

// `taskd task logs <task> [--follow]` (spec §8). The API has no push channel for task logs, so
// --follow polls GET .../logs and prints entries it has not printed yet (by id), until Ctrl-C or
// until the task is deleted. With -o json, --follow prints one JSON object per line.

export const logsSpec: CommandSpec = {
  path: 'task logs',
  args: '<task>',
  summary: "Show a task's logs",
  positionals: { min: 1, max: 1 },
  options: {
    follow: { type: 'boolean', short: 'f', description: 'Keep printing new log entries as they appear (beyond Coder).' },
    'follow-interval': { type: 'string', description: 'Polling interval of --follow.', default: '1s', hidden: true },
    column: columnOption(LOG_DEFAULT_COLUMNS, LOG_COLUMNS),
    output: { type: 'string', short: 'o', description: 'Output format.', default: 'table', choices: ['table', 'json'] },
  },
  examples: [
    ['Show the logs of a task', 'taskd task logs task1'],
    ['Follow the conversation as it happens', 'taskd task logs task1 --follow'],
  ],
};

/** While following, these only mean "not readable right now" (a pause or resume in progress). */
const TRANSIENT = new Set([409, 502, 503]);

export async function runLogs(argv: string[]): Promise<void> {
  const parsed = parseCommand(logsSpec, argv);
  if (!parsed) return;
  const { flags, args } = parsed;
  const columns = pickColumns(flags.strings('column'), LOG_DEFAULT_COLUMNS, LOG_COLUMNS, logsSpec.path);
  const interval = parseDuration(flags.string('follow-interval') ?? '1s', 'follow-interval', logsSpec.path);
  const json = flags.string('output') === 'json';
  const client = authenticatedClient();
  const task = await resolveTask(client, args[0]);

  if (!flags.bool('follow')) {
    const { logs } = await during('get task logs', () => taskLogs(client, task));
    writeOut(json ? renderJson(logs) : renderTable(columns, logs.map(logRow)));
    return;
  }

  let printedHeader = false;
  const widths: number[] = [];
  let lastId = -Infinity;
  const emit = (entries: TaskLogEntry[]) => {
    const fresh = entries.filter((e) => e.id > lastId);
    if (fresh.length === 0 && printedHeader) return;
    if (fresh.length > 0) lastId = Math.max(lastId, ...fresh.map((e) => e.id));
    if (json) {
      for (const e of fresh) writeOut(JSON.stringify(e));
      return;
    }
    writeOut(renderTable(columns, fresh.map(logRow), { header: !printedHeader, widths }));
    printedHeader = true;
  };
  for (let first = true; ; first = false) {
    if (!first) await sleep(interval);
    try {
      emit((await during('get task logs', () => taskLogs(client, task))).logs);
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 404) {
        process.stderr.write(`Task ${task.owner_name}/${task.name} was deleted.\n`);
        return;
      }
      if (!(err instanceof ApiRequestError && TRANSIENT.has(err.status))) throw err;
    }
  }
}
