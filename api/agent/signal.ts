import type { Client } from '@temporalio/client';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../lib/logger';
import { agentReportSignal, taskWorkflowId, type AgentReport } from '../../workflows/contracts';
import { taskIdOfWorkspace } from '../../db/tasks';

// After an agent report is stored, the task workflow is woken by a signal; the workflow's timers
// are the fallback. The report is already durable, so a signal that fails (workflow closed,
// Temporal away) is logged and forgotten: the agent's request never fails because of it.

const SIGNAL_TIMEOUT_MS = 3_000;

export async function signalAgentReport(
  deps: { temporal: Client; em: EntityManager; log: Logger },
  workspaceId: string,
  report: AgentReport,
): Promise<void> {
  const taskId = await taskIdOfWorkspace(deps.em, workspaceId);
  if (!taskId) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      deps.temporal.workflow.getHandle(taskWorkflowId(taskId)).signal(agentReportSignal, report),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${SIGNAL_TIMEOUT_MS} ms`)), SIGNAL_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    deps.log.info({ err: (err as Error).message, taskId, kind: report.kind }, 'agent report stored but not signalled');
  } finally {
    clearTimeout(timer);
  }
}
