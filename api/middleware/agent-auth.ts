import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../context';
import { ApiError } from '../errors';
import { hashAgentToken } from '../../lib/agent-token';

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

interface AgentRow {
  agent_id: string;
  build_id: string;
  build_number: number;
  workspace_id: string;
  owner_id: string;
  superseded: boolean;
}

export const requireAgent = createMiddleware<AppEnv>(async (c, next) => {
  const token = c.req.header(AGENT_TOKEN_HEADER)?.trim();
  if (!token) throw agentUnauthorized(`Provide the agent token in the "${AGENT_TOKEN_HEADER}" header.`);
  const rows = await c.get('em').getConnection().execute<AgentRow[]>(
    `select a.id as agent_id, a.build_id, b.build_number, b.workspace_id, w.owner_id,
            exists (select 1 from workspace_builds x
                     where x.workspace_id = b.workspace_id and x.build_number > b.build_number
                       and (x.transition = 'start' or x.job_status not in ('pending', 'running'))) as superseded
       from workspace_agents a
       join workspace_builds b on b.id = a.build_id
       join workspaces w on w.id = b.workspace_id
      where a.auth_token_hash = ? and not w.deleted`,
    [hashAgentToken(token)],
  );
  const row = rows[0];
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
