import { parseCommand, renderGroupHelp, UsageError, type CommandSpec } from './command';
import { during } from './client';
import { authenticatedClient } from './credentials';
import { columnOption, pickColumns, renderJson, renderTable, stamp, writeOut } from './output';
import { nameFromFile, readTemplateFile, splitTemplateFile } from './template-file';
import { aiTaskTemplates, findTemplate, orgOption, selectOrganization, type Template, type TemplateVersion } from './templates-api';

// `taskd templates create | list | versions create`: templates in the API's own definition format
// (issue 3: {name, display_name?, icon?, workspace: WorkspaceDefinition, presets?}), from JSON or YAML.

const TEMPLATE_COLUMNS = ['id', 'name', 'display name', 'organization', 'provisioner', 'ai task', 'active version id', 'description', 'created at', 'updated at'];
const TEMPLATE_DEFAULT_COLUMNS = ['name', 'display name', 'provisioner', 'ai task', 'active version id'];
const output = { type: 'string', short: 'o', description: 'Output format.', default: 'text', choices: ['text', 'json'] } as const;
const quiet = { type: 'boolean', short: 'q', description: 'Only display the ID.' } as const;

export const createTemplateSpec: CommandSpec = {
  path: 'templates create',
  args: '<file.json|file.yaml>',
  summary: 'Create a template (and its first, active version) from a file',
  description:
    'The file holds a template ({name, display_name, icon, workspace, presets}) or just a workspace\n' +
    'definition ({provisioner, apps, ai_task, ...}); the name defaults to the file name.',
  positionals: { min: 1, max: 1 },
  options: { name: { type: 'string', description: 'Template name (overrides the file).' }, org: orgOption(), quiet, output },
  examples: [['Create a template from a YAML file', 'taskd templates create ./claude.yaml']],
};

export const listTemplatesSpec: CommandSpec = {
  path: 'templates list',
  summary: "List the organization's templates",
  aliases: ['ls'],
  options: {
    org: orgOption(),
    column: columnOption(TEMPLATE_DEFAULT_COLUMNS, TEMPLATE_COLUMNS),
    output: { type: 'string', short: 'o', description: 'Output format.', default: 'table', choices: ['table', 'json'] },
  },
};

export const createVersionSpec: CommandSpec = {
  path: 'templates versions create',
  args: '<template> <file.json|file.yaml>',
  summary: 'Add a version to a template (it becomes the active version unless --no-activate)',
  positionals: { min: 2, max: 2 },
  options: {
    name: { type: 'string', description: 'Version name (generated when omitted).' },
    message: { type: 'string', description: 'Version message.' },
    'no-activate': { type: 'boolean', description: 'Keep the current active version.' },
    org: orgOption(),
    quiet,
    output,
  },
  examples: [['Publish a new version of a template', 'taskd templates versions create claude ./claude.yaml']],
};

async function runCreateTemplate(argv: string[]): Promise<void> {
  const parsed = parseCommand(createTemplateSpec, argv);
  if (!parsed) return;
  const { flags, args } = parsed;
  const { workspace, rest } = splitTemplateFile(readTemplateFile(args[0]));
  const body = { ...rest, name: flags.string('name') ?? rest.name ?? nameFromFile(args[0]), workspace };
  const client = authenticatedClient();
  const org = await selectOrganization(client, flags.string('org'));
  const template = await during('create template', () => client.post<Template>(`/organizations/${encodeURIComponent(org.id)}/templates`, body));
  if (flags.bool('quiet')) writeOut(template.id);
  else if (flags.string('output') === 'json') writeOut(renderJson(template));
  else writeOut(`The template ${template.name} has been created at ${stamp(template.created_at)}!`);
}

async function runListTemplates(argv: string[]): Promise<void> {
  const parsed = parseCommand(listTemplatesSpec, argv);
  if (!parsed) return;
  const { flags } = parsed;
  const columns = pickColumns(flags.strings('column'), TEMPLATE_DEFAULT_COLUMNS, TEMPLATE_COLUMNS, listTemplatesSpec.path);
  const client = authenticatedClient();
  const org = await selectOrganization(client, flags.string('org'));
  const templates = await during('list templates', () => client.get<Template[]>(`/organizations/${encodeURIComponent(org.id)}/templates`));
  if (flags.string('output') === 'json') return writeOut(renderJson(templates));
  if (templates.length === 0) {
    process.stderr.write('No templates found.\n');
    return;
  }
  const ai = new Set(columns.includes('ai task') ? (await aiTaskTemplates(client, org)).map((t) => t.id) : []);
  const rows = templates.map((t) => ({
    id: t.id,
    name: t.name,
    'display name': t.display_name,
    organization: t.organization_name,
    provisioner: t.provisioner,
    'ai task': ai.has(t.id) ? 'yes' : 'no',
    'active version id': t.active_version_id,
    description: t.description,
    'created at': t.created_at,
    'updated at': t.updated_at,
  }));
  writeOut(renderTable(columns, rows));
}

async function runCreateVersion(argv: string[]): Promise<void> {
  const parsed = parseCommand(createVersionSpec, argv);
  if (!parsed) return;
  const { flags, args } = parsed;
  const { workspace, rest } = splitTemplateFile(readTemplateFile(args[1]));
  const name = flags.string('name') ?? rest.version_name;
  const message = flags.string('message') ?? rest.message;
  const body = {
    workspace,
    ...(rest.presets !== undefined ? { presets: rest.presets } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(message !== undefined ? { message } : {}),
    activate: !flags.bool('no-activate'),
  };
  const client = authenticatedClient();
  const org = await selectOrganization(client, flags.string('org'));
  const template = await findTemplate(client, org, args[0]);
  const version = await during(`create a version of template "${template.name}"`, () =>
    client.post<TemplateVersion>(`/templates/${encodeURIComponent(template.id)}/versions`, body),
  );
  if (flags.bool('quiet')) writeOut(version.id);
  else if (flags.string('output') === 'json') writeOut(renderJson(version));
  else {
    const active = flags.bool('no-activate') ? '' : ' and is now active';
    writeOut(`Version ${version.name} of template ${template.name} has been created${active}.`);
  }
}

const TEMPLATE_HELP = renderGroupHelp('templates', 'Manage templates', [
  ['create', createTemplateSpec.summary],
  ['list, ls', listTemplatesSpec.summary],
  ['versions create', createVersionSpec.summary],
], ['template']);

const VERSIONS_HELP = renderGroupHelp('templates versions', 'Manage template versions', [['create', createVersionSpec.summary]]);

const isHelp = (a: string | undefined) => a === undefined || a === '-h' || a === '--help' || a === 'help';

export async function runTemplatesCommand(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (isHelp(name)) return void process.stdout.write(TEMPLATE_HELP);
  switch (name) {
    case 'create':
      return runCreateTemplate(rest);
    case 'list':
    case 'ls':
      return runListTemplates(rest);
    case 'versions':
    case 'version': {
      const [sub, ...more] = rest;
      if (isHelp(sub)) return void process.stdout.write(VERSIONS_HELP);
      if (sub === 'create') return runCreateVersion(more);
      throw new UsageError(`unknown command "templates versions ${sub}"`, 'templates versions');
    }
    default:
      throw new UsageError(`unknown command "templates ${name}"`, 'templates');
  }
}
