import type { Client } from '@temporalio/client';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../lib/logger';
import { agentReportSignal, taskWorkflowId, type AgentReport } from '../../workflows/contracts';

// After an agent report is stored, the task workflow is woken by a signal; the workflow's timers
// are the fallback. The report is already durable, so a signal that fails (workflow closed,
// Temporal away) is logged and forgotten: the agent's request never fails because of it.

const SIGNAL_TIMEOUT_MS = 3_000;

/** The task of a workspace (the latest one, even if soft-deleted: its workflow may still be running). */
export async function taskIdOfWorkspace(em: EntityManager, workspaceId: string): Promise<string | null> {
  const rows = await em.execute<{ id: string }[]>(
    'select id from tasks where workspace_id = ? order by deleted_at desc nulls first, created_at desc limit 1',
    [workspaceId],
    'all',
  );
  return rows[0]?.id ?? null;
}

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
