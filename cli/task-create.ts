import { CliError, parseCommand, UsageError, type CommandSpec } from './command';
import { authenticatedClient } from './credentials';
import { during, type TaskdClient } from './client';
import { stamp, writeOut } from './output';
import { Progress } from './progress';
import { readAllStdin } from './prompt';
import { createTask } from './tasks-api';
import { waitForActive } from './task-wait';
import {
  aiTaskTemplates,
  findTemplate,
  orgOption,
  presetId,
  selectOrganization,
  templateVersionByName,
  type Organization,
} from './templates-api';

// `taskd task create [input]` (spec §8): picks the template (the only AI-task template when none
// is named), its active or named version and preset, and creates the task for --owner.

const PRESET_NONE = 'none';

export const createSpec: CommandSpec = {
  path: 'task create',
  args: '[input]',
  summary: 'Create a task',
  positionals: { min: 0, max: 1 },
  options: {
    name: { type: 'string', description: 'Name of the task; generated from the input when omitted.' },
    owner: { type: 'string', description: 'Owner of the task (username, id or "me").', default: 'me' },
    template: { type: 'string', description: 'Template to use.', env: ['TASKD_TASK_TEMPLATE_NAME', 'CODER_TASK_TEMPLATE_NAME'] },
    'template-version': {
      type: 'string',
      description: "Template version name; defaults to the template's active version.",
      env: ['TASKD_TASK_TEMPLATE_VERSION', 'CODER_TASK_TEMPLATE_VERSION'],
    },
    preset: {
      type: 'string',
      description: 'Template preset name.',
      default: PRESET_NONE,
      env: ['TASKD_TASK_PRESET_NAME', 'CODER_TASK_PRESET_NAME'],
    },
    stdin: { type: 'boolean', description: 'Read the task input from stdin.' },
    quiet: { type: 'boolean', short: 'q', description: "Only display the created task's ID." },
    wait: { type: 'boolean', description: 'Wait until the task is active, showing its progress (beyond Coder).' },
    org: orgOption(),
  },
  examples: [
    ['Create a task with direct input', 'taskd task create "Add authentication to the user service"'],
    ['Create a task with stdin input', 'echo "Add authentication to the user service" | taskd task create --stdin'],
    ['Create a task with a specific name', 'taskd task create --name task1 "Add authentication to the user service"'],
    ['Create a task from a specific template and preset', 'taskd task create --template backend-dev --preset "My Preset" "Add tests"'],
  ],
};

async function templateVersionId(
  client: TaskdClient,
  org: Organization,
  templateName: string | undefined,
  versionName: string | undefined,
): Promise<string> {
  if (!templateName) {
    const templates = await during('list templates', () => aiTaskTemplates(client, org));
    if (templates.length === 0) throw new CliError('no task templates configured');
    if (templates.length > 1) {
      throw new CliError(`template name not provided, available templates: ${templates.map((t) => t.name).join(', ')}`);
    }
    if (!versionName) return templates[0].active_version_id;
    return (await templateVersionByName(client, templates[0], versionName)).id;
  }
  const template = await findTemplate(client, org, templateName);
  if (!versionName) return template.active_version_id;
  return (await templateVersionByName(client, template, versionName)).id;
}

export async function runCreate(argv: string[]): Promise<void> {
  const parsed = parseCommand(createSpec, argv);
  if (!parsed) return;
  const { flags, args } = parsed;
  let input: string;
  if (flags.bool('stdin')) {
    if (args.length > 0) throw new UsageError('give the input either as an argument or with --stdin, not both', createSpec.path);
    input = await readAllStdin();
  } else {
    if (args.length !== 1) throw new UsageError('expected an input for the task (an argument, or --stdin)', createSpec.path);
    input = args[0];
  }
  if (input === '') throw new CliError('a task cannot be started with an empty input');

  const client = authenticatedClient();
  const org = await selectOrganization(client, flags.string('org'));
  const versionId = await templateVersionId(client, org, flags.string('template'), flags.string('template-version'));
  const preset = flags.string('preset') ?? PRESET_NONE;
  const presetUuid = preset !== PRESET_NONE ? await presetId(client, versionId, preset) : undefined;

  const task = await during('create task', () =>
    createTask(client, flags.string('owner') ?? 'me', {
      template_version_id: versionId,
      ...(presetUuid ? { template_version_preset_id: presetUuid } : {}),
      input,
      ...(flags.string('name') ? { name: flags.string('name') } : {}),
    }),
  );
  if (flags.bool('wait')) {
    const progress = new Progress();
    progress.set('Task is pending');
    await waitForActive(client, task, progress);
    progress.stop();
  }
  if (flags.bool('quiet')) writeOut(task.id);
  else writeOut(`The task ${task.name} has been created at ${stamp(task.created_at)}!`);
}
