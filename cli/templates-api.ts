import { CliError, type OptionSpec } from './command';
import { during, type TaskdClient } from './client';

// Organizations and templates as the CLI needs them: picking the organization a command acts in,
// and finding templates, versions and presets by name (Coder's lookup routes).

export interface Organization {
  id: string;
  name: string;
  display_name: string;
  is_default: boolean;
}

export interface Template {
  id: string;
  name: string;
  display_name: string;
  organization_id: string;
  organization_name: string;
  active_version_id: string;
  provisioner: string;
  description: string;
  created_at: string;
  updated_at: string;
}

export interface Preset {
  ID: string;
  Name: string;
}

export interface TemplateVersion {
  id: string;
  template_id: string;
  name: string;
  has_ai_task: boolean;
  created_at: string;
  presets?: Preset[];
}

const seg = encodeURIComponent;

export function orgOption(): OptionSpec {
  return {
    type: 'string',
    short: 'O',
    placeholder: 'name',
    description: 'Organization to act in (name or id); defaults to your only, or the default, organization.',
    env: ['TASKD_ORGANIZATION', 'CODER_ORGANIZATION'],
  };
}

/** The organization named by --org, else the caller's only organization, else the default one. */
export async function selectOrganization(client: TaskdClient, org: string | undefined): Promise<Organization> {
  if (org) return during(`organization "${org}"`, () => client.get<Organization>(`/organizations/${seg(org)}`));
  const mine = await client.get<Organization[]>('/users/me/organizations');
  if (mine.length === 1) return mine[0];
  const fallback = mine.find((o) => o.is_default);
  if (fallback) return fallback;
  if (mine.length === 0) throw new CliError('you are not a member of any organization');
  throw new CliError(`you are a member of several organizations (${mine.map((o) => o.name).join(', ')}); choose one with --org`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A template by id, or by name within the organization. */
export function findTemplate(client: TaskdClient, org: Organization, ref: string): Promise<Template> {
  return during(`template "${ref}"`, () =>
    UUID.test(ref) ? client.get<Template>(`/templates/${seg(ref)}`) : client.get<Template>(`/organizations/${seg(org.id)}/templates/${seg(ref)}`),
  );
}

export function templateVersionByName(client: TaskdClient, template: Template, name: string): Promise<TemplateVersion> {
  return during(`template version "${name}" of template "${template.name}"`, () =>
    client.get<TemplateVersion>(`/templates/${seg(template.id)}/versions/${seg(name)}`),
  );
}

/** Templates of the organization whose active version has an AI task. */
export function aiTaskTemplates(client: TaskdClient, org: Organization): Promise<Template[]> {
  return client.get<Template[]>('/templates', { q: `organization:${org.id} has-ai-task:true` });
}

export async function presetId(client: TaskdClient, versionId: string, name: string): Promise<string> {
  const presets = await during('get template presets', () => client.get<Preset[]>(`/templateversions/${seg(versionId)}/presets`));
  const found = presets.find((p) => p.Name === name);
  if (!found) {
    const names = presets.map((p) => p.Name);
    throw new CliError(`preset "${name}" not found${names.length ? `; available presets: ${names.join(', ')}` : ' (this template version has no presets)'}`);
  }
  return found.ID;
}
