import { parseCommand, parseDuration, type CommandSpec } from './command';
import { ApiRequestError, during } from './client';
import { authenticatedClient } from './credentials';
import { columnOption, pickColumns, renderJson, renderTable, writeOut } from './output';
import { getTask, resolveTask, taskLogs, type TaskLogEntry } from './tasks-api';
import { LOG_COLUMNS, LOG_DEFAULT_COLUMNS, logRow } from './task-view';
import { sleep } from './task-wait';

// `taskd task logs <task> [--follow]` (spec §8). --follow polls GET .../logs and prints entries it
// has not printed yet (by id), until Ctrl-C or until the task is deleted. The agent's newest reply
// is held back while the task is "working" — it is still being written, and an entry is printed
// once — so a reply is never cut off mid-sentence. With -o json, one JSON object per line.
// (Polling, not the watch stream: an AI app reached without taskd's workspace agent changes its
// conversation without a database change the stream could see.)

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
    const { logs, queued = [] } = await during('get task logs', () => taskLogs(client, task));
    // queued inputs (task send --queue) follow the conversation, marked as such
    const waiting = queued.map((q) => ({ id: '-', type: 'queued', content: q.input, time: q.created_at }));
    writeOut(json ? renderJson(logs) : renderTable(columns, [...logs.map(logRow), ...waiting]));
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
  /** All but a reply that is still growing: the newest output entry while the agent works. */
  const settled = (entries: TaskLogEntry[], working: boolean) => {
    const newest = entries.reduce((a, e) => (e.id > a.id ? e : a), entries[0]!);
    return working && newest?.type === 'output' ? entries.filter((e) => e !== newest) : entries;
  };
  for (let first = true; ; first = false) {
    if (!first) await sleep(interval);
    try {
      // the state first: logs read after an "idle" hold the finished reply
      const current = await during('get task', () => getTask(client, task.id));
      const { logs } = await during('get task logs', () => taskLogs(client, task));
      const working = current.status === 'active' && current.current_state?.state === 'working';
      emit(logs.length === 0 ? logs : settled(logs, working));
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 404) {
        process.stderr.write(`Task ${task.owner_name}/${task.name} was deleted.\n`);
        return;
      }
      if (!(err instanceof ApiRequestError && TRANSIENT.has(err.status))) throw err;
    }
  }
}
