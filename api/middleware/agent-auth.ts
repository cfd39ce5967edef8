import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context';
import { ApiError } from '../errors';
import { hashAgentToken } from '../../lib/agent-token';
import { agentByTokenHash } from '../../db/agent-access';

// Workspace agents authenticate with their agent token in Coder-Session-Token (as Coder's agents
// do). The token is looked up by its SHA-256; the agent must belong to its workspace's latest build.
//
// One deliberate allowance: while the builds after the agent's own are only stop/delete builds whose
// job has not finished, the agent still authenticates. That is the window in which the workspace is
// being stopped and its agent uploads the log snapshot and reports shutting down (Coder gets the
// same effect by reusing the agent token across builds). Once such a build completes, or any newer
// start build exists, the old agent gets 401.

export const AGENT_TOKEN_HEADER = 'Coder-Session-Token';

const agentUnauthorized = (detail: string) => new ApiError(401, 'Workspace agent not authorized.', detail);

export const requireAgent = createMiddleware<AppEnv>(async (c, next) => {
  const token = c.req.header(AGENT_TOKEN_HEADER)?.trim();
  if (!token) throw agentUnauthorized(`Provide the agent token in the "${AGENT_TOKEN_HEADER}" header.`);
  const row = await agentByTokenHash(c.get('em'), hashAgentToken(token));
  if (!row) throw agentUnauthorized('The agent token is invalid.');
  if (row.superseded) throw agentUnauthorized("The agent is not part of the workspace's latest build.");
  c.set('agent', {
    agentId: row.agent_id,
    buildId: row.build_id,
    buildNumber: row.build_number,
    workspaceId: row.workspace_id,
    ownerId: row.owner_id,
  });
  c.set('log', c.get('log').child({ agentId: row.agent_id }));
  await next();
});
