import { renderGroupHelp, UsageError } from './command';
import { createSpec, runCreate } from './task-create';
import { deleteSpec, pauseSpec, resumeSpec, runDelete, runPause, runResume } from './task-lifecycle';
import { listSpec, runList } from './task-list';
import { logsSpec, runLogs } from './task-logs';
import { runSend, sendSpec } from './task-send';
import { queueSpec, runQueue } from './task-queue';
import { runStatus, statusSpec } from './task-status';

// `taskd task` (alias `tasks`): the subcommands of Coder's `coder task`, with their aliases.

const SUBCOMMANDS: { names: string[]; summary: string; run: (argv: string[]) => Promise<void> }[] = [
  { names: ['create'], summary: createSpec.summary, run: runCreate },
  { names: ['list', 'ls'], summary: listSpec.summary, run: runList },
  { names: ['status', 'stat'], summary: statusSpec.summary, run: runStatus },
  { names: ['logs'], summary: logsSpec.summary, run: runLogs },
  { names: ['send'], summary: sendSpec.summary, run: runSend },
  { names: ['queue'], summary: queueSpec.summary, run: runQueue },
  { names: ['pause'], summary: pauseSpec.summary, run: runPause },
  { names: ['resume'], summary: resumeSpec.summary, run: runResume },
  { names: ['delete', 'rm'], summary: deleteSpec.summary, run: runDelete },
];

const HELP = renderGroupHelp(
  'task',
  'Manage tasks',
  SUBCOMMANDS.map((s) => [s.names.join(', '), s.summary]),
  ['tasks'],
);

export async function runTaskCommand(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(HELP);
    return;
  }
  const sub = SUBCOMMANDS.find((s) => s.names.includes(name));
  if (!sub) throw new UsageError(`unknown command "task ${name}"`, 'task');
  await sub.run(rest);
}
