import { createRoute, z } from '@hono/zod-openapi';
import type { ApiApp, AppDeps } from '../context';
import { notFound } from '../errors';
import { requireUser } from '../middleware/auth';
import { SESSION_SECURITY, errorResponses, jsonContent, uuidPathParam } from '../dto/common';
import { orInternal } from '../tasks/internal';
import { uuidParam } from '../workspaces/lookup';
import { getAgent } from '../../db/workspaces';
import type { AgentRecord } from '../../db/workspace-agents';

// What Coder's CLI asks of a workspace agent for `coder show`: the ports it listens on and its
// containers. A taskd agent's listening ports are its apps' ports (what it serves inside the
// workspace) while its build runs; it runs no dev containers, so that list is truthfully empty.

const agentParam = z.object({
  workspaceagent: uuidPathParam('workspaceagent', 'Workspace agent id'),
});
const listeningPorts = z
  .object({ ports: z.array(z.object({ process_name: z.string(), network: z.literal('tcp'), port: z.number().int() })) })
  .openapi('WorkspaceAgentListeningPortsResponse');
const containers = z
  .object({
    devcontainers: z.array(z.object({})).openapi({ description: 'Always empty: taskd runs no dev containers' }),
    containers: z.array(z.object({})).openapi({ description: 'Always empty: taskd runs no dev containers' }),
    warnings: z.array(z.string()).optional(),
  })
  .openapi('WorkspaceAgentListContainersResponse');

function appPorts(agent: AgentRecord): { process_name: string; network: 'tcp'; port: number }[] {
  const ports = new Map<number, string>();
  for (const app of agent.apps) {
    try {
      const url = new URL(app.url);
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      // port 0 is the echo provisioner's placeholder: nothing listens there
      if (port > 0 && !ports.has(port)) ports.set(port, app.slug);
    } catch {
      // an app without a URL listens on nothing we know of
    }
  }
  return [...ports].map(([port, name]) => ({ process_name: name, network: 'tcp', port }));
}

export function registerWorkspaceAgentRoutes(api: ApiApp, _deps: AppDeps): void {
  const visibleAgent = async (em: Parameters<typeof getAgent>[0], actor: Parameters<typeof getAgent>[1], ref: string) => {
    const found = await orInternal('Internal error fetching workspace agent.', () => getAgent(em, actor, uuidParam(ref)));
    if (!found) throw notFound();
    return found;
  };

  api.openapi(
    createRoute({
      method: 'get',
      path: '/workspaceagents/{workspaceagent}/listening-ports',
      tags: ['Workspaces'],
      summary: "The ports a workspace agent's apps listen on",
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: agentParam },
      responses: { 200: jsonContent(listeningPorts, 'Listening ports'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const { agent, build, latest } = await visibleAgent(c.get('em'), c.get('actor'), c.req.valid('param').workspaceagent);
      const live = latest && build.transition === 'start' && build.jobStatus === 'succeeded' && agent.lifecycle === 'ready';
      return c.json({ ports: live ? appPorts(agent) : [] }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: 'get',
      path: '/workspaceagents/{workspaceagent}/containers',
      tags: ['Workspaces'],
      summary: "A workspace agent's dev containers (taskd runs none)",
      security: SESSION_SECURITY,
      middleware: [requireUser] as const,
      request: { params: agentParam, query: z.object({ label: z.string().optional() }) },
      responses: { 200: jsonContent(containers, 'Containers'), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      await visibleAgent(c.get('em'), c.get('actor'), c.req.valid('param').workspaceagent);
      return c.json({ devcontainers: [], containers: [] }, 200);
    },
  );
}
