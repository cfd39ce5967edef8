import { z } from '@hono/zod-openapi';
import type { WorkspaceRecord } from '../../db/workspaces';
import { appStatusJson, appStatusSchema } from './workspace-agent';
import { workspaceBuildJson, workspaceBuildSchema } from './workspace-build';

// Coder's Workspace JSON (codersdk.Workspace). Scheduling features taskd does not have (autostart,
// TTL, dormancy) are reported empty.

export const workspaceSchema = z
  .object({
    id: z.string().uuid(),
    created_at: z.string(),
    updated_at: z.string(),
    owner_id: z.string().uuid(),
    owner_name: z.string(),
    owner_avatar_url: z.string(),
    organization_id: z.string().uuid(),
    organization_name: z.string(),
    template_id: z.string().uuid(),
    template_name: z.string(),
    template_display_name: z.string(),
    template_icon: z.string(),
    template_allow_user_cancel_workspace_jobs: z.boolean(),
    template_active_version_id: z.string().uuid().nullable(),
    template_require_active_version: z.boolean(),
    template_use_classic_parameter_flow: z.boolean(),
    // a union, not .nullable(): the generator writes a nullable component as allOf [its $ref, object|null],
    // which no null satisfies
    latest_build: z.union([workspaceBuildSchema, z.null()]),
    latest_app_status: z.union([appStatusSchema, z.null()]),
    outdated: z.boolean(),
    name: z.string(),
    last_used_at: z.string(),
    deleting_at: z.string().nullable(),
    dormant_at: z.string().nullable(),
    next_start_at: z.string().nullable(),
    health: z.object({ healthy: z.boolean(), failing_agents: z.array(z.string().uuid()) }),
    automatic_updates: z.string(),
    allow_renames: z.boolean(),
    favorite: z.boolean(),
    is_prebuild: z.boolean(),
    task_id: z.string().uuid().nullable(),
  })
  .openapi('Workspace');
export type WorkspaceJson = z.infer<typeof workspaceSchema>;

export function workspaceJson(w: WorkspaceRecord): WorkspaceJson {
  const latestBuild = w.latestBuild ? workspaceBuildJson(w.latestBuild) : null;
  const failingAgents = (latestBuild?.resources ?? [])
    .flatMap((r) => r.agents ?? [])
    .filter((a) => !a.health.healthy)
    .map((a) => a.id);
  return {
    id: w.id,
    created_at: w.createdAt,
    updated_at: w.updatedAt,
    owner_id: w.ownerId,
    owner_name: w.ownerUsername,
    owner_avatar_url: w.ownerAvatarUrl,
    organization_id: w.organizationId,
    organization_name: w.organizationName,
    template_id: w.templateId,
    template_name: w.templateName,
    template_display_name: w.templateDisplayName,
    template_icon: w.templateIcon,
    template_allow_user_cancel_workspace_jobs: false,
    template_active_version_id: w.templateActiveVersionId,
    template_require_active_version: false,
    template_use_classic_parameter_flow: true,
    latest_build: latestBuild,
    latest_app_status: w.latestAppStatus ? appStatusJson(w.latestAppStatus) : null,
    outdated:
      w.templateActiveVersionId !== null &&
      w.latestBuild !== null &&
      w.latestBuild.templateVersionId !== w.templateActiveVersionId,
    name: w.name,
    last_used_at: w.updatedAt,
    deleting_at: null,
    dormant_at: null,
    next_start_at: null,
    health: { healthy: failingAgents.length === 0, failing_agents: failingAgents },
    automatic_updates: 'never',
    allow_renames: false,
    favorite: false,
    is_prebuild: false,
    task_id: w.taskId,
  };
}
