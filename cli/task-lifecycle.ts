import { CliError, parseCommand, type CommandSpec, type OptionSpec } from './command';
import { during } from './client';
import { authenticatedClient } from './credentials';
import { stamp, writeOut } from './output';
import { Progress } from './progress';
import { confirm } from './prompt';
import { deleteTask, displayName, pauseTask, resolveTask, resumeTask, type Task } from './tasks-api';
import { waitForBuild } from './task-wait';

// `taskd task pause | resume | delete` (spec §8): confirm (unless -y), act, and for pause/resume
// follow the workspace build to its end with the phases on stderr.

const yes: OptionSpec = { type: 'boolean', short: 'y', description: 'Do not ask for confirmation.' };

export const pauseSpec: CommandSpec = {
  path: 'task pause',
  args: '<task>',
  summary: 'Pause a task',
  positionals: { min: 1, max: 1 },
  options: { yes },
  examples: [
    ['Pause a task by name', 'taskd task pause my-task'],
    ['Pause a task without confirmation', 'taskd task pause my-task --yes'],
  ],
};

export const resumeSpec: CommandSpec = {
  path: 'task resume',
  args: '<task>',
  summary: 'Resume a task',
  positionals: { min: 1, max: 1 },
  options: {
    'no-wait': { type: 'boolean', description: 'Return immediately after resuming the task.' },
    yes,
  },
  examples: [
    ['Resume a task by name', 'taskd task resume my-task'],
    ["Resume another user's task", 'taskd task resume alice/my-task'],
    ['Resume a task without confirmation', 'taskd task resume my-task --yes'],
  ],
};

export const deleteSpec: CommandSpec = {
  path: 'task delete',
  args: '<task> [<task>...]',
  summary: 'Delete tasks',
  aliases: ['rm'],
  positionals: { min: 1, max: Infinity },
  options: { yes },
  examples: [
    ['Delete a single task', 'taskd task delete task1'],
    ['Delete several tasks', 'taskd task delete task1 task2 task3'],
    ['Delete a task without confirmation', 'taskd task delete task4 --yes'],
  ],
};

async function followBuild(task: Task, build: { id: string; build_number: number }, what: string): Promise<void> {
  const client = authenticatedClient();
  const progress = new Progress();
  progress.set(what);
  try {
    await waitForBuild(client, task, build, progress);
  } finally {
    progress.stop();
  }
}

export async function runPause(argv: string[]): Promise<void> {
  const parsed = parseCommand(pauseSpec, argv);
  if (!parsed) return;
  const client = authenticatedClient();
  const task = await resolveTask(client, parsed.args[0]);
  const display = displayName(task);
  await confirm(`Pause task ${display}?`, parsed.flags.bool('yes'));
  const build = await during(`pause task "${display}"`, () => pauseTask(client, task));
  await followBuild(task, build, 'Pausing task');
  writeOut(`\nThe ${task.name} task has been paused at ${stamp(new Date())}!`);
}

export async function runResume(argv: string[]): Promise<void> {
  const parsed = parseCommand(resumeSpec, argv);
  if (!parsed) return;
  const client = authenticatedClient();
  const task = await resolveTask(client, parsed.args[0]);
  const display = displayName(task);
  if (task.status === 'error' || task.status === 'unknown') {
    throw new CliError(
      `task "${display}" is in ${task.status} state and cannot be resumed; check the workspace build logs and agent status for details`,
    );
  }
  if (task.status !== 'paused') throw new CliError(`task "${display}" cannot be resumed (current status: ${task.status})`);
  await confirm(`Resume task ${display}?`, parsed.flags.bool('yes'));
  const build = await during(`resume task "${display}"`, () => resumeTask(client, task));
  if (parsed.flags.bool('no-wait')) {
    writeOut(`Resuming task "${display}" in the background.`);
    return;
  }
  await followBuild(task, build, 'Resuming task');
  writeOut(`\nThe ${display} task has been resumed.`);
}

export async function runDelete(argv: string[]): Promise<void> {
  const parsed = parseCommand(deleteSpec, argv);
  if (!parsed) return;
  const client = authenticatedClient();
  const tasks: Task[] = [];
  for (const id of parsed.args) tasks.push(await resolveTask(client, id));
  const displays = tasks.map(displayName);
  await confirm(`Delete these tasks: ${displays.join(', ')}?`, parsed.flags.bool('yes'));
  for (const [i, task] of tasks.entries()) {
    await during(`delete task "${displays[i]}"`, () => deleteTask(client, task));
    writeOut(`Deleted task ${displays[i]} at ${stamp(new Date())}`);
  }
}
