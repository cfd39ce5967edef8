import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Organization, User } from './accounts';

export const Template = defineEntity({
  name: 'Template',
  tableName: 'templates',
  properties: {
    id: p.uuid().primary(),
    organization: p.manyToOne(Organization).mapToPk().deleteRule('cascade'),
    name: p.string(),
    displayName: p.string().default(''),
    description: p.string().default(''),
    icon: p.string().default(''),
    // plain uuid, not a relation: versions reference their template, and a cycle of FKs would
    // make inserting the first version a two-step dance for no gain
    activeVersionId: p.uuid().nullable(),
    createdBy: p.manyToOne(User).mapToPk(),
    deleted: p.boolean().default(false),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  uniques: [
    {
      name: 'templates_org_name_key',
      expression:
        'create unique index "templates_org_name_key" on "templates" ("organization_id", lower("name")) where not "deleted"',
    },
  ],
});
export type ITemplate = InferEntity<typeof Template>;

export const TemplateVersion = defineEntity({
  name: 'TemplateVersion',
  tableName: 'template_versions',
  properties: {
    id: p.uuid().primary(),
    template: p.manyToOne(Template).mapToPk().deleteRule('cascade').index(),
    organization: p.manyToOne(Organization).mapToPk().deleteRule('cascade'),
    name: p.string(),
    message: p.string().default(''),
    // taskd's WorkspaceDefinition, validated at the API edge
    definition: p.json<Record<string, unknown>>(),
    hasAiTask: p.boolean().default(false),
    createdBy: p.manyToOne(User).mapToPk(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
export type ITemplateVersion = InferEntity<typeof TemplateVersion>;

export const TemplateVersionPreset = defineEntity({
  name: 'TemplateVersionPreset',
  tableName: 'template_version_presets',
  properties: {
    id: p.uuid().primary(),
    templateVersion: p.manyToOne(TemplateVersion).mapToPk().deleteRule('cascade').index(),
    name: p.string(),
    parameters: p.json<Record<string, string>>(),
    createdAt: p.datetime(),
  },
  uniques: [{ properties: ['templateVersion', 'name'] }],
});
export type ITemplateVersionPreset = InferEntity<typeof TemplateVersionPreset>;
