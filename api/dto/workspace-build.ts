import { z } from '@hono/zod-openapi';
import type { BuildRecord } from '../../db/workspaces';
import { BUILD_TRANSITIONS, JOB_STATUSES, WORKSPACE_STATUSES, workspaceStatus } from '../../domain/task-status';
import { NIL_UUID } from '../../domain/ids';
import { stableUuid } from '../../lib/named-uuid';
import { agentJson, agentSchema } from './workspace-agent';

// Coder's WorkspaceBuild JSON (codersdk.WorkspaceBuild with its ProvisionerJob and resources).
// taskd keeps no separate resources table: a build that has agents shows one resource holding
// them, with an id derived from the build id so it is stable across reads.

export const provisionerJobSchema = z
  .object({
    id: z.string().uuid(),
    created_at: z.string(),
    started_at: z.string().optional(),
    completed_at: z.string().optional(),
    canceled_at: z.string().optional(),
    error: z.string().optional(),
    status: z.enum(JOB_STATUSES),
    file_id: z.string().uuid(),
    tags: z.record(z.string(), z.string()),
    queue_position: z.number().int(),
    queue_size: z.number().int(),
    organization_id: z.string().uuid(),
    initiator_id: z.string().uuid(),
    input: z.object({ workspace_build_id: z.string().uuid().optional(), template_version_id: z.string().uuid().optional() }),
    type: z.literal('workspace_build'),
    metadata: z.object({
      template_version_name: z.string(),
      template_id: z.string().uuid(),
      template_name: z.string(),
      template_display_name: z.string(),
      template_icon: z.string(),
      workspace_id: z.string().uuid().optional(),
      workspace_name: z.string().optional(),
      workspace_build_transition: z.enum(BUILD_TRANSITIONS).optional(),
    }),
    logs_overflowed: z.boolean(),
  })
  .openapi('ProvisionerJob');

export const workspaceResourceSchema = z
  .object({
    id: z.string().uuid(),
    created_at: z.string(),
    job_id: z.string().uuid(),
    workspace_transition: z.enum(BUILD_TRANSITIONS),
    type: z.string(),
    name: z.string(),
    hide: z.boolean(),
    icon: z.string(),
    agents: z.array(agentSchema).optional(),
    daily_cost: z.number().int(),
  })
  .openapi('WorkspaceResource');

export const workspaceBuildSchema = z
  .object({
    id: z.string().uuid(),
    created_at: z.string(),
    updated_at: z.string(),
    workspace_id: z.string().uuid(),
    workspace_name: z.string(),
    workspace_owner_id: z.string().uuid(),
    workspace_owner_name: z.string(),
    workspace_owner_avatar_url: z.string().optional(),
    template_version_id: z.string().uuid(),
    template_version_name: z.string(),
    build_number: z.number().int(),
    transition: z.enum(BUILD_TRANSITIONS),
    initiator_id: z.string().uuid(),
    initiator_name: z.string(),
    job: provisionerJobSchema,
    reason: z.string(),
    resources: z.array(workspaceResourceSchema),
    deadline: z.string().nullable(),
    max_deadline: z.string().nullable(),
    status: z.enum(WORKSPACE_STATUSES),
    daily_cost: z.number().int(),
    matched_provisioners: z.object({ count: z.number().int(), available: z.number().int() }),
    template_version_preset_id: z.string().uuid().nullable(),
    has_ai_task: z.boolean(),
    has_external_agent: z.boolean(),
  })
  .openapi('WorkspaceBuild');
export type WorkspaceBuildJson = z.infer<typeof workspaceBuildSchema>;

/** The id of the synthetic resource that holds a build's agents. */
export function buildResourceId(buildId: string): string {
  return stableUuid('workspace-resource', buildId);
}

function jobJson(b: BuildRecord): z.infer<typeof provisionerJobSchema> {
  const ended = b.jobStatus === 'canceled' || b.jobStatus === 'canceling';
  return {
    id: b.jobId,
    created_at: b.createdAt,
    ...(b.jobStartedAt ? { started_at: b.jobStartedAt } : {}),
    ...(b.jobCompletedAt ? { completed_at: b.jobCompletedAt } : {}),
    ...(ended && b.jobCompletedAt ? { canceled_at: b.jobCompletedAt } : {}),
    ...(b.jobError ? { error: b.jobError } : {}),
    status: b.jobStatus,
    file_id: NIL_UUID,
    tags: { scope: 'organization', owner: '' },
    queue_position: 0,
    queue_size: 0,
    organization_id: b.organizationId,
    initiator_id: b.initiatorId,
    input: { workspace_build_id: b.id },
    type: 'workspace_build',
    metadata: {
      template_version_name: b.templateVersionName,
      template_id: b.templateId,
      template_name: b.templateName,
      template_display_name: b.templateDisplayName,
      template_icon: b.templateIcon,
      workspace_id: b.workspaceId,
      workspace_name: b.workspaceName,
      workspace_build_transition: b.transition,
    },
    logs_overflowed: false,
  };
}

export function workspaceBuildJson(b: BuildRecord): WorkspaceBuildJson {
  const resourceId = buildResourceId(b.id);
  const resources =
    b.agents.length === 0
      ? []
      : [
          {
            id: resourceId,
            created_at: b.createdAt,
            job_id: b.jobId,
            workspace_transition: b.transition,
            type: `taskd_${b.provisioner || 'workspace'}`,
            name: 'workspace',
            hide: false,
            icon: '',
            agents: b.agents.map((a) => agentJson(a, resourceId)),
            daily_cost: 0,
          },
        ];
  return {
    id: b.id,
    created_at: b.createdAt,
    updated_at: b.updatedAt,
    workspace_id: b.workspaceId,
    workspace_name: b.workspaceName,
    workspace_owner_id: b.workspaceOwnerId,
    workspace_owner_name: b.workspaceOwnerUsername,
    ...(b.workspaceOwnerAvatarUrl ? { workspace_owner_avatar_url: b.workspaceOwnerAvatarUrl } : {}),
    template_version_id: b.templateVersionId,
    template_version_name: b.templateVersionName,
    build_number: b.buildNumber,
    transition: b.transition,
    initiator_id: b.initiatorId,
    initiator_name: b.initiatorUsername,
    job: jobJson(b),
    reason: b.reason,
    resources,
    deadline: null,
    max_deadline: null,
    status: workspaceStatus(b.transition, b.jobStatus),
    daily_cost: 0,
    // taskd's own workers run every build; reporting none would make Coder clients warn that
    // no provisioner can pick the job up.
    matched_provisioners: { count: 1, available: 1 },
    template_version_preset_id: b.templateVersionPresetId,
    has_ai_task: b.hasAiTask,
    has_external_agent: b.provisioner === 'external',
  };
}
