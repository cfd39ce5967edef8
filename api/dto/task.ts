import { z } from '@hono/zod-openapi';
import type { TaskRecord } from '../../db/tasks';
import {
  AGENT_LIFECYCLES,
  TASK_STATUSES,
  WORKSPACE_STATUSES,
  deriveCurrentState,
  workspaceStatus,
  type AppStatusState,
} from '../../domain/task-status';
import { NIL_UUID } from '../../domain/ids';
import { agentHealth, agentHealthSchema } from './workspace-agent';

// Coder's Task JSON (spec §1.3): nullable UUIDs are plain strings or null, and the fields Go marks
// omitempty are left out when empty, because Coder's clients were written against exactly that.

const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

export const taskStateEntrySchema = z
  .object({ timestamp: z.string(), state: z.string(), message: z.string(), uri: z.string() })
  .openapi('TaskStateEntry');

/** An input waiting in the task's send queue (beyond Coder; README, "Queued input"). */
export const queuedInputSchema = z
  .object({
    id: z.string().uuid(),
    input: z.string(),
    state: z.enum(['queued', 'delivering', 'delivered', 'cancelled']),
    created_at: z.string(),
  })
  .openapi('QueuedInput');
export type QueuedInputJson = z.infer<typeof queuedInputSchema>;

export function queuedInputJson(q: { id: string; input: string; state: QueuedInputJson['state']; createdAt: string }): QueuedInputJson {
  return { id: q.id, input: q.input, state: q.state, created_at: q.createdAt };
}

export const taskSchema = z
  .object({
    id: z.string().uuid(),
    organization_id: z.string().uuid(),
    owner_id: z.string().uuid(),
    owner_name: z.string(),
    owner_avatar_url: z.string().optional(),
    name: z.string(),
    display_name: z.string(),
    template_id: z.string().uuid(),
    template_version_id: z.string().uuid(),
    template_name: z.string(),
    template_display_name: z.string(),
    template_icon: z.string(),
    workspace_id: z.string().uuid().nullable(),
    workspace_name: z.string(),
    workspace_status: z.enum(WORKSPACE_STATUSES).optional(),
    workspace_build_number: z.number().int().optional(),
    workspace_agent_id: z.string().uuid().nullable(),
    workspace_agent_lifecycle: z.enum(AGENT_LIFECYCLES).nullable(),
    workspace_agent_health: agentHealthSchema.nullable(),
    workspace_app_id: z.string().uuid().nullable(),
    initial_prompt: z.string(),
    status: z.enum(TASK_STATUSES),
    current_state: taskStateEntrySchema.nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    /** beyond Coder: the inputs of the send queue not delivered yet, oldest first (GET of one task) */
    queued_inputs: z.array(queuedInputSchema).optional(),
  })
  .openapi('Task');
export type TaskJson = z.infer<typeof taskSchema>;

export const tasksListSchema = z
  .object({ tasks: z.array(taskSchema), count: z.number().int() })
  .openapi('TasksListResponse');

export function taskJson(t: TaskRecord): TaskJson {
  const build = t.latestBuild;
  const buildStatus = build ? workspaceStatus(build.transition, build.jobStatus) : undefined;
  const currentState = deriveCurrentState({
    latestAppStatus: t.latestAppStatus
      ? {
          createdAt: t.latestAppStatus.createdAt,
          // passed through unchanged: a failed app reads "failure", as in Coder (spec §1.3)
          state: t.latestAppStatus.state as AppStatusState,
          message: t.latestAppStatus.message,
          uri: t.latestAppStatus.uri,
        }
      : null,
    latestBuild: build && buildStatus ? { transition: build.transition, status: buildStatus, createdAt: build.createdAt } : null,
    taskStatus: t.status,
    agentLifecycle: t.workspaceAgentLifecycle,
    appHealth: t.workspaceAppHealth,
  });
  const ws = t.workspace;
  return {
    id: t.id,
    organization_id: t.organizationId,
    owner_id: t.ownerId,
    owner_name: t.ownerUsername,
    ...(t.ownerAvatarUrl ? { owner_avatar_url: t.ownerAvatarUrl } : {}),
    name: t.name,
    display_name: t.displayName,
    template_id: ws?.templateId ?? NIL_UUID,
    template_version_id: t.templateVersionId,
    template_name: ws?.templateName ?? '',
    template_display_name: ws?.templateDisplayName ?? '',
    template_icon: ws?.templateIcon ?? '',
    workspace_id: t.workspaceId,
    workspace_name: ws?.name ?? '',
    ...(ws && buildStatus ? { workspace_status: buildStatus } : {}),
    ...(t.workspaceBuildNumber ? { workspace_build_number: t.workspaceBuildNumber } : {}),
    workspace_agent_id: t.workspaceAgentId,
    workspace_agent_lifecycle: t.workspaceAgentLifecycle,
    workspace_agent_health: t.workspaceAgentId && t.agent ? agentHealth(t.agent) : null,
    workspace_app_id: t.workspaceAppId,
    initial_prompt: t.prompt,
    status: t.status,
    current_state: currentState,
    created_at: t.createdAt,
    updated_at: ws?.updatedAt ?? GO_ZERO_TIME,
  };
}
