import { randomUUID } from 'node:crypto';
import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  Organization,
  Template,
  TemplateVersion,
  TemplateVersionPreset,
  User,
  type IOrganization,
  type ITemplate,
  type ITemplateVersion,
  type ITemplateVersionPreset,
  type IUser,
} from './entities';
import { parseUuid } from '../domain/ids';
import { hasAiTask, type WorkspaceDefinition } from '../domain/workspace-definition';
import { memberOrgIds } from './organizations';
import { orgRoleOf, type Caller, type OrgRole } from './scope';
import { escapeLike, flushUnlessTaken, sql, sqlOne } from './sql';

// Templates and their versions. Reading needs membership of the template's organization (every
// lookup returns the caller's role there); a template is created together with its first version,
// made active, in one transaction, so no template ever exists without an active version.

/** A non-deleted template the caller can see (member of its organization or site owner), with their role. */
export async function readableTemplate(em: EntityManager, caller: Caller, templateId: string): Promise<{ template: ITemplate; role: OrgRole } | null> {
  const id = parseUuid(templateId);
  if (!id) return null;
  const template = await em.findOne(Template, { id, deleted: false });
  if (!template) return null;
  const role = await orgRoleOf(em, caller, template.organization);
  return role ? { template, role } : null;
}

/** A version of a non-deleted template the caller can see, with their role in its organization. */
export async function readableTemplateVersion(
  em: EntityManager,
  caller: Caller,
  versionId: string,
): Promise<{ version: ITemplateVersion; template: ITemplate; role: OrgRole } | null> {
  const id = parseUuid(versionId);
  if (!id) return null;
  const version = await em.findOne(TemplateVersion, { id });
  if (!version) return null;
  const role = await orgRoleOf(em, caller, version.organization);
  if (!role) return null;
  const template = await em.findOne(Template, { id: version.template, deleted: false });
  return template ? { version, template, role } : null;
}

export interface TemplateFilter {
  /** one organization (already checked readable) instead of all of the caller's */
  orgIds?: string[];
  exactName?: string;
  fuzzyName?: string;
  /** only templates whose active version has (or has not) an AI task */
  hasAiTask?: boolean;
}

/** Templates of the caller's organizations, by name. */
export async function listTemplates(em: EntityManager, caller: Caller, filter: TemplateFilter): Promise<ITemplate[]> {
  const orgIds = filter.orgIds ?? (await memberOrgIds(em, caller));
  const where: Record<string, unknown> = { deleted: false };
  if (orgIds !== 'all') where.organization = { $in: orgIds };
  if (filter.exactName !== undefined) where[raw((a) => `lower(${a}.name)`)] = filter.exactName.toLowerCase();
  if (filter.fuzzyName !== undefined) where.name = { $ilike: `%${escapeLike(filter.fuzzyName)}%` };
  const templates = await em.find(Template, where, { orderBy: { name: 'asc' } });
  if (filter.hasAiTask === undefined) return templates;
  const ids = templates.map((t) => t.activeVersionId).filter((v): v is string => v !== null);
  const versions = await em.find(TemplateVersion, { id: { $in: ids }, hasAiTask: filter.hasAiTask });
  const keep = new Set(versions.map((v) => v.id));
  return templates.filter((t) => t.activeVersionId && keep.has(t.activeVersionId));
}

export function templateByName(em: EntityManager, orgId: string, name: string): Promise<ITemplate | null> {
  return em.findOne(Template, { organization: orgId, deleted: false, [raw((a) => `lower(${a}.name)`)]: name.toLowerCase() });
}

export function templateVersions(em: EntityManager, templateId: string): Promise<ITemplateVersion[]> {
  return em.find(TemplateVersion, { template: templateId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
}

export function templateVersionByName(em: EntityManager, templateId: string, name: string): Promise<ITemplateVersion | null> {
  return em.findOne(TemplateVersion, { template: templateId, name });
}

export function templateVersionOf(em: EntityManager, templateId: string, versionId: string): Promise<ITemplateVersion | null> {
  return em.findOne(TemplateVersion, { id: versionId, template: templateId });
}

/** Whether a template version with this id exists at all (of any template). */
export async function templateVersionExists(em: EntityManager, versionId: string): Promise<boolean> {
  return (await em.count(TemplateVersion, { id: versionId })) > 0;
}

export function presetsOf(em: EntityManager, versionIds: string[]): Promise<ITemplateVersionPreset[]> {
  return em.find(TemplateVersionPreset, { templateVersion: { $in: versionIds } }, { orderBy: { name: 'asc' } });
}

/** Whether `presetId` is a preset of `versionId`. */
export async function presetOfVersion(em: EntityManager, presetId: string, versionId: string): Promise<boolean> {
  return (await sqlOne(em, 'select 1 from template_version_presets where id = ? and template_version_id = ?', [presetId, versionId])) !== null;
}

export async function setActiveVersion(em: EntityManager, templateId: string, versionId: string): Promise<void> {
  await em.nativeUpdate(Template, { id: templateId }, { activeVersionId: versionId, updatedAt: new Date() });
}

/** What Coder's Template and TemplateVersion show beyond their rows. */
export interface TemplateRelations {
  organizations: IOrganization[];
  users: IUser[];
  templates: ITemplate[];
  versions: ITemplateVersion[];
  presets: ITemplateVersionPreset[];
}

/** The organizations, creators and active versions of `templates`, in three batched reads. */
export async function templateRelations(em: EntityManager, templates: ITemplate[]): Promise<TemplateRelations> {
  if (templates.length === 0) return { organizations: [], users: [], templates, versions: [], presets: [] };
  const activeIds = templates.map((t) => t.activeVersionId).filter((v): v is string => v !== null);
  const organizations = await em.find(Organization, { id: { $in: [...new Set(templates.map((t) => t.organization))] } });
  const users = await em.find(User, { id: { $in: [...new Set(templates.map((t) => t.createdBy))] } });
  const versions = await em.find(TemplateVersion, { id: { $in: activeIds } });
  return { organizations, users, templates, versions, presets: [] };
}

/** The templates, creators and presets of `versions`, in three batched reads. */
export async function versionRelations(em: EntityManager, versions: ITemplateVersion[]): Promise<TemplateRelations> {
  if (versions.length === 0) return { organizations: [], users: [], templates: [], versions, presets: [] };
  const templates = await em.find(Template, { id: { $in: [...new Set(versions.map((v) => v.template))] } });
  const users = await em.find(User, { id: { $in: [...new Set(versions.map((v) => v.createdBy))] } });
  const presets = await presetsOf(em, versions.map((v) => v.id));
  return { organizations: [], users, templates, versions, presets };
}

export interface PresetInput {
  name: string;
  parameters: Record<string, string>;
}

export interface VersionInput {
  definition: WorkspaceDefinition;
  presets?: PresetInput[];
  name?: string;
  message?: string;
  createdBy: string;
}

function stageVersion(em: EntityManager, template: ITemplate, input: VersionInput, name: string, now: Date): ITemplateVersion {
  const version = em.create(TemplateVersion, {
    id: randomUUID(),
    template: template.id,
    organization: template.organization,
    name,
    message: input.message ?? '',
    definition: input.definition as unknown as Record<string, unknown>,
    hasAiTask: hasAiTask(input.definition),
    createdBy: input.createdBy,
    createdAt: now,
    updatedAt: now,
  });
  for (const p of input.presets ?? []) {
    em.create(TemplateVersionPreset, { id: randomUUID(), templateVersion: version.id, name: p.name, parameters: p.parameters, createdAt: now });
  }
  return version;
}

/** A template with its first, active version; null when the organization has a template of that name. */
export async function createTemplateWithVersion(
  em: EntityManager,
  input: VersionInput & { organizationId: string; templateName: string; displayName?: string; description?: string; icon?: string },
): Promise<{ template: ITemplate; version: ITemplateVersion } | null> {
  const now = new Date();
  const template = em.create(Template, {
    id: randomUUID(),
    organization: input.organizationId,
    name: input.templateName,
    displayName: input.displayName ?? '',
    description: input.description ?? '',
    icon: input.icon ?? '',
    activeVersionId: null,
    createdBy: input.createdBy,
    deleted: false,
    createdAt: now,
    updatedAt: now,
  });
  const version = stageVersion(em, template, input, input.name ?? 'v1', now);
  template.activeVersionId = version.id;
  return (await flushUnlessTaken(em)) ? null : { template, version };
}

/** A new version of `template` (made active if asked); `{ taken }` when the name is in use. */
export async function addTemplateVersion(
  em: EntityManager,
  template: ITemplate,
  input: VersionInput & { activate: boolean },
): Promise<{ version: ITemplateVersion } | { taken: string }> {
  return em.transactional(async (tx) => {
    // serialise version creation per template so generated names and the active pointer stay consistent
    await sql(tx, 'select id from templates where id = ? for update', [template.id]);
    const name = input.name ?? `v${(await tx.count(TemplateVersion, { template: template.id })) + 1}`;
    if (await tx.count(TemplateVersion, { template: template.id, name })) return { taken: name };
    const now = new Date();
    const version = stageVersion(tx, template, input, name, now);
    if (input.activate) {
      await tx.nativeUpdate(Template, { id: template.id }, { activeVersionId: version.id, updatedAt: now });
    }
    await tx.flush();
    return { version };
  });
}
