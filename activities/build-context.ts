import { deriveAgentToken } from '../lib/agent-token';
import { workspaceDefinitionSchema } from '../domain/workspace-definition';
import { ProvisionerError, type BuildContext } from '../provisioner/driver';
import { buildContextRow } from '../db/builds';
import { fork } from '../db/sql';
import type { ActivityDeps } from './deps';

// What a provisioner driver is told about a build, loaded from the database so that the
// provisioning activity's input stays a single build id in the workflow history. The agent token is
// derived here, never stored.

export async function loadBuildContext(deps: ActivityDeps, buildId: string): Promise<BuildContext> {
  const em = fork(deps.orm);
  const row = await buildContextRow(em, buildId);
  if (!row) throw new ProvisionerError(`build ${buildId} does not exist`, false);
  const parsed = workspaceDefinitionSchema.safeParse(row.definition);
  if (!parsed.success) throw new ProvisionerError(`the template version's workspace definition is invalid: ${parsed.error.message}`, false);
  if (row.transition === 'start' && !row.agent_id) {
    throw new ProvisionerError(`start build ${buildId} has no agent row (beginBuild must run first)`, false);
  }
  return {
    workspaceId: row.workspace_id,
    workspaceName: row.workspace_name,
    ownerName: row.owner_name,
    taskId: row.task_id,
    buildId,
    buildNumber: row.build_number,
    transition: row.transition,
    definition: parsed.data,
    agent:
      row.transition === 'start' && row.agent_id
        ? { id: row.agent_id, name: row.agent_name ?? 'main', token: await deriveAgentToken(em, row.agent_id) }
        : null,
    accessUrl: deps.config.http.accessUrl,
  };
}
