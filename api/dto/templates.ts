import { z } from '@hono/zod-openapi';
import type { ITemplate, ITemplateVersion, ITemplateVersionPreset } from '../../db/entities';
import type { TemplateRelations } from '../../db/templates';
import { NIL_UUID } from '../../domain/ids';

// Coder's Template / TemplateVersion / Preset JSON, filled from taskd's template records. Fields
// that belong to Terraform-era features taskd does not have (schedules, port sharing, ...) carry
// Coder's neutral defaults so SDK clients decode them unchanged. Pure: the related rows are loaded
// by db/templates.ts and handed in.

const ALL_DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

export const TemplateSchema = z
  .object({
    id: z.string().uuid(),
    created_at: z.string(),
    updated_at: z.string(),
    organization_id: z.string().uuid(),
    organization_name: z.string(),
    organization_display_name: z.string(),
    organization_icon: z.string(),
    name: z.string(),
    display_name: z.string(),
    provisioner: z.string(),
    active_version_id: z.string().uuid(),
    active_user_count: z.number().int(),
    build_time_stats: z.record(z.string(), z.unknown()),
    description: z.string(),
    deprecated: z.boolean(),
    deprecation_message: z.string(),
    icon: z.string(),
    default_ttl_ms: z.number(),
    activity_bump_ms: z.number(),
    time_til_autostop_notify_ms: z.number(),
    autostop_requirement: z.object({ days_of_week: z.array(z.string()), weeks: z.number() }),
    autostart_requirement: z.object({ days_of_week: z.array(z.string()) }),
    created_by_id: z.string().uuid(),
    created_by_name: z.string(),
    allow_user_autostart: z.boolean(),
    allow_user_autostop: z.boolean(),
    allow_user_cancel_workspace_jobs: z.boolean(),
    failure_ttl_ms: z.number(),
    time_til_dormant_ms: z.number(),
    time_til_dormant_autodelete_ms: z.number(),
    require_active_version: z.boolean(),
    max_port_share_level: z.string(),
    cors_behavior: z.string(),
    use_classic_parameter_flow: z.boolean(),
    disable_module_cache: z.boolean(),
    deleted: z.boolean(),
  })
  .openapi('Template');
export type TemplateDto = z.infer<typeof TemplateSchema>;

export function toTemplates(templates: ITemplate[], { organizations, users, versions }: TemplateRelations): TemplateDto[] {
  return templates.map((t) => {
    const org = organizations.find((o) => o.id === t.organization);
    const active = versions.find((v) => v.id === t.activeVersionId);
    return {
      id: t.id,
      created_at: t.createdAt.toISOString(),
      updated_at: t.updatedAt.toISOString(),
      organization_id: t.organization,
      organization_name: org?.name ?? '',
      organization_display_name: org?.displayName || org?.name || '',
      organization_icon: org?.icon ?? '',
      name: t.name,
      display_name: t.displayName,
      provisioner: String(active?.definition.provisioner ?? ''),
      active_version_id: t.activeVersionId ?? NIL_UUID,
      active_user_count: 0,
      build_time_stats: {},
      description: t.description,
      deprecated: false,
      deprecation_message: '',
      icon: t.icon,
      default_ttl_ms: 0,
      activity_bump_ms: 0,
      time_til_autostop_notify_ms: 0,
      autostop_requirement: { days_of_week: [], weeks: 1 },
      autostart_requirement: { days_of_week: ALL_DAYS },
      created_by_id: t.createdBy,
      created_by_name: users.find((u) => u.id === t.createdBy)?.username ?? '',
      allow_user_autostart: false,
      allow_user_autostop: false,
      allow_user_cancel_workspace_jobs: false,
      failure_ttl_ms: 0,
      time_til_dormant_ms: 0,
      time_til_dormant_autodelete_ms: 0,
      require_active_version: false,
      max_port_share_level: 'owner',
      cors_behavior: 'simple',
      // taskd templates have no parameters: the classic flow's one call (rich-parameters) answers [],
      // where the dynamic flow would need a websocket preview nothing here could fill
      use_classic_parameter_flow: true,
      disable_module_cache: false,
      deleted: t.deleted,
    };
  });
}

/** Coder's Preset JSON uses Go field names (no json tags upstream), hence the capitals. */
export const PresetSchema = z
  .object({
    ID: z.string().uuid(),
    Name: z.string(),
    Parameters: z.array(z.object({ Name: z.string(), Value: z.string() })),
    Default: z.boolean(),
    DesiredPrebuildInstances: z.number().int().nullable(),
    Description: z.string(),
    Icon: z.string(),
  })
  .openapi('Preset');

export function toPreset(p: ITemplateVersionPreset): z.infer<typeof PresetSchema> {
  return {
    ID: p.id,
    Name: p.name,
    Parameters: Object.entries(p.parameters).map(([Name, Value]) => ({ Name, Value })),
    Default: false,
    DesiredPrebuildInstances: null,
    Description: '',
    Icon: '',
  };
}

export const TemplateVersionSchema = z
  .object({
    id: z.string().uuid(),
    template_id: z.string().uuid(),
    organization_id: z.string().uuid(),
    created_at: z.string(),
    updated_at: z.string(),
    name: z.string(),
    message: z.string(),
    job: z.record(z.string(), z.unknown()),
    matched_provisioners: z.object({ count: z.number(), available: z.number() }),
    readme: z.string(),
    created_by: z.object({ id: z.string().uuid(), username: z.string(), avatar_url: z.string(), name: z.string() }),
    archived: z.boolean(),
    warnings: z.array(z.string()),
    has_ai_task: z.boolean(),
    has_external_agent: z.boolean(),
    presets: z.array(PresetSchema).openapi({ description: 'taskd extension: the presets of this version' }),
    workspace: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'taskd extension: the WorkspaceDefinition; shown to organization admins only' }),
  })
  .openapi('TemplateVersion');
export type TemplateVersionDto = z.infer<typeof TemplateVersionSchema>;

/**
 * Converts versions; `withDefinition` exposes the stored WorkspaceDefinition (its env may carry
 * credentials for the AI agent, so only template administrators get it).
 */
export function toTemplateVersions(
  versions: ITemplateVersion[],
  { templates, users, presets }: TemplateRelations,
  opts: { withDefinition: boolean },
): TemplateVersionDto[] {
  return versions.map((v) => {
    const t = templates.find((x) => x.id === v.template);
    const u = users.find((x) => x.id === v.createdBy);
    const at = v.createdAt.toISOString();
    return {
      id: v.id,
      template_id: v.template,
      organization_id: v.organization,
      created_at: at,
      updated_at: v.updatedAt.toISOString(),
      name: v.name,
      message: v.message,
      // versions are validated synchronously, so their "import job" has always already succeeded;
      // it shares the version's id because there is no separate job record
      job: {
        id: v.id,
        created_at: at,
        started_at: at,
        completed_at: at,
        status: 'succeeded',
        error: '',
        file_id: NIL_UUID,
        tags: { scope: 'organization', owner: '' },
        queue_position: 0,
        queue_size: 0,
        organization_id: v.organization,
        initiator_id: v.createdBy,
        input: { template_version_id: v.id },
        type: 'template_version_import',
        metadata: {
          template_version_name: v.name,
          template_id: v.template,
          template_name: t?.name ?? '',
          template_display_name: t?.displayName ?? '',
          template_icon: t?.icon ?? '',
        },
        logs_overflowed: false,
        available_workers: [],
      },
      matched_provisioners: { count: 1, available: 1 },
      readme: '',
      created_by: { id: v.createdBy, username: u?.username ?? '', avatar_url: u?.avatarUrl ?? '', name: u?.name ?? '' },
      archived: false,
      warnings: [],
      has_ai_task: v.hasAiTask,
      has_external_agent: v.definition.provisioner === 'external',
      presets: presets.filter((p) => p.templateVersion === v.id).map(toPreset),
      ...(opts.withDefinition ? { workspace: v.definition } : {}),
    };
  });
}
