import { randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Template, TemplateVersion, TemplateVersionPreset, type ITemplate, type ITemplateVersion } from '../db/entities';
import { hasAiTask, type WorkspaceDefinition } from '../domain/workspace-definition';
import { ApiError } from './errors';

// Writing templates and versions. A template is created together with its first version (made
// active) in one transaction, so no template ever exists without an active version.

const UNIQUE_DETAIL = 'This value is already in use and should be unique.';

export const templateNameSchema = z
  .string()
  .min(1, 'must be >= 1 character')
  .max(32, 'must be <= 32 characters')
  .regex(/^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/, 'must be alphanumeric with hyphens');

export const templateDisplayNameSchema = z
  .string()
  .max(64, 'must be <= 64 characters')
  .regex(/^(?:\S(?:.*\S)?)?$/, 'must not start or end with whitespace');

export const versionNameSchema = z
  .string()
  .min(1)
  .max(64, 'must be <= 64 characters')
  .regex(/^[a-zA-Z0-9]+(?:[_.-][a-zA-Z0-9]+)*$/, 'must be letters and digits separated by single "_", "." or "-"');

export const presetsSchema = z
  .array(
    z.object({
      name: z.string().trim().min(1).max(64),
      parameters: z.record(z.string().min(1).max(128), z.string().max(4096)).default({}),
    }),
  )
  .max(32)
  .superRefine((presets, ctx) => {
    const seen = new Set<string>();
    presets.forEach((p, i) => {
      if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate preset name "${p.name}"` });
      seen.add(p.name);
    });
  });
export type PresetInput = z.infer<typeof presetsSchema>;

interface VersionInput {
  definition: WorkspaceDefinition;
  presets?: PresetInput;
  name?: string;
  message?: string;
  createdBy: string;
}

async function nextVersionName(em: EntityManager, templateId: string): Promise<string> {
  const count = await em.count(TemplateVersion, { template: templateId });
  return `v${count + 1}`;
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

export async function createTemplateWithVersion(
  em: EntityManager,
  input: VersionInput & { organizationId: string; templateName: string; displayName?: string; description?: string; icon?: string },
): Promise<{ template: ITemplate; version: ITemplateVersion }> {
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
  try {
    await em.flush();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) {
      throw new ApiError(409, `Template with name "${input.templateName}" already exists.`, undefined, [
        { field: 'name', detail: UNIQUE_DETAIL },
      ]);
    }
    throw err;
  }
  return { template, version };
}

export async function addTemplateVersion(
  em: EntityManager,
  template: ITemplate,
  input: VersionInput & { activate: boolean },
): Promise<ITemplateVersion> {
  return em.transactional(async (tx) => {
    // serialise version creation per template so generated names and the active pointer stay consistent
    await tx.execute('select id from templates where id = ? for update', [template.id]);
    const name = input.name ?? (await nextVersionName(tx, template.id));
    if (await tx.count(TemplateVersion, { template: template.id, name })) {
      throw new ApiError(409, `A template version named "${name}" already exists.`, undefined, [
        { field: 'name', detail: UNIQUE_DETAIL },
      ]);
    }
    const now = new Date();
    const version = stageVersion(tx, template, input, name, now);
    if (input.activate) {
      await tx.nativeUpdate(Template, { id: template.id }, { activeVersionId: version.id, updatedAt: now });
    }
    await tx.flush();
    return version;
  });
}

export interface TemplateQuery {
  organization?: string;
  exactName?: string;
  fuzzyName?: string;
  hasAiTask?: boolean;
  deprecated?: boolean;
}

const BOOL = { true: true, false: false } as const;

/** Coder's template search `q`: space-separated key:value terms (values may be double-quoted). */
export function parseTemplateQuery(q: string | undefined): TemplateQuery {
  const out: TemplateQuery = {};
  const validations: { field: string; detail: string }[] = [];
  const terms = (q ?? '').match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
  for (const term of terms) {
    const idx = term.indexOf(':');
    const key = idx < 0 ? 'name' : term.slice(0, idx).toLowerCase();
    const value = (idx < 0 ? term : term.slice(idx + 1)).replace(/"/g, '');
    const bool = BOOL[value.toLowerCase() as keyof typeof BOOL];
    switch (key) {
      case 'organization':
        out.organization ??= value;
        break;
      case 'exact_name':
        out.exactName ??= value;
        break;
      case 'name':
        out.fuzzyName ??= value;
        break;
      case 'has-ai-task':
      case 'deprecated':
        if (bool === undefined) validations.push({ field: key, detail: `Query param "${key}" must be a valid boolean` });
        else if (key === 'has-ai-task') out.hasAiTask ??= bool;
        else out.deprecated ??= bool;
        break;
      default:
        validations.push({ field: key, detail: `Query param "${key}" is not a valid query param` });
    }
  }
  if (validations.length > 0) throw new ApiError(400, 'Invalid template search query.', undefined, validations);
  return out;
}
