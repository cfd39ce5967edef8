import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from '@hono/zod-openapi';
import type { AgentActor } from '../context';
import { ApiError } from '../errors';
import { workspaceDefinitionSchema } from '../../domain/workspace-definition';
import { manifestRows, type ManifestAppRow } from '../../db/agent-access';

// What a workspace agent needs to run its workspace, read from the records of its build: the apps
// as the provisioner recorded them (URL, and the port the agent must give an app it starts), the
// template's environment, and the task's current prompt with whether the conversation has begun,
// so the prompt is delivered exactly once per task even across pause/resume.

export const manifestSchema = z
  .object({
    agent_id: z.string().uuid(),
    agent_name: z.string(),
    workspace_id: z.string().uuid(),
    workspace_name: z.string(),
    owner_name: z.string(),
    build_number: z.number().int(),
    apps: z.array(
      z.object({
        id: z.string().uuid(),
        slug: z.string(),
        display_name: z.string(),
        url: z.string(),
        command: z.string().nullable(),
        /** the port the agent passes to the app it starts as PORT; null for apps it does not start */
        port: z.number().int().nullable(),
        healthcheck: z.object({ url: z.string(), interval_s: z.number().int(), threshold: z.number().int() }).nullable(),
      }),
    ),
    env: z.record(z.string(), z.string()),
    ai_app_slug: z.string().nullable(),
    task: z
      .object({
        id: z.string().uuid(),
        /** the task's prompt as it is now (PATCH .../input may have changed it while paused) */
        prompt: z.string(),
        /** true once a user message reached the AI app: the prompt must not be sent again */
        conversation_started: z.boolean(),
      })
      .nullable(),
    server_time: z.string(),
  })
  .openapi('WorkspaceAgentManifest');
export type Manifest = z.infer<typeof manifestSchema>;

function portOf(app: ManifestAppRow): number | null {
  if (app.command === null || !app.url) return null;
  try {
    const url = new URL(app.url);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    return port > 0 ? port : null;
  } catch {
    return null;
  }
}

export async function loadManifest(em: EntityManager, agent: AgentActor): Promise<Manifest> {
  const { build, apps, task } = await manifestRows(em, agent);
  if (!build) throw new ApiError(401, 'Workspace agent not authorized.', 'The agent no longer exists.');
  // the apps (and their ports) are recorded when the build completes; an agent that starts faster
  // than that asks again
  if (build.job_status !== 'succeeded') {
    throw new ApiError(503, 'The workspace build has not completed yet.', `Build job status is "${build.job_status}".`);
  }
  const definition = workspaceDefinitionSchema.safeParse(build.definition);
  return {
    agent_id: agent.agentId,
    agent_name: build.agent_name,
    workspace_id: agent.workspaceId,
    workspace_name: build.workspace_name,
    owner_name: build.owner_name,
    build_number: agent.buildNumber,
    apps: apps.map((a) => ({
      id: a.id,
      slug: a.slug,
      display_name: a.display_name,
      url: a.url,
      command: a.command,
      port: portOf(a),
      healthcheck: a.healthcheck,
    })),
    env: definition.success ? (definition.data.env ?? {}) : {},
    ai_app_slug: definition.success ? (definition.data.ai_task?.app ?? null) : null,
    task: task ? { id: task.id, prompt: task.prompt, conversation_started: task.started } : null,
    server_time: new Date().toISOString(),
  };
}
