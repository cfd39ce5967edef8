import type { Client, WorkflowHandle } from '@temporalio/client';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '../../lib/logger';
import { agentReportSignal, queuedInputsSignal, taskWorkflowId, type AgentReport } from '../../workflows/contracts';
import { taskWithOpenQueue } from '../../db/queued-inputs';
import { reportTarget } from '../../db/tasks';
import { lockedAgentStatus } from '../../db/agents';

// After an agent report is stored, the task workflow is woken by a signal; the workflow's timers
// are the fallback. The report is already durable, so a signal that fails (workflow closed,
// Temporal away) is logged and forgotten: the agent's request never fails because of it.
//
// Every signal costs the workflow a round trip through Temporal (a workflow task and a read of the
// agent's state), so only a report the workflow acts on wakes it: one about the task's latest
// build while that is a start build (a stopping agent's reports change nothing), and `relevant`
// as the route decides — a lifecycle or health report that moved the task's status (the workflow
// waits for nothing else: created → starting, or an agent ready while its app still initializes,
// leave the task initializing), an app status only when it moves the auto-pause deadline of a
// template that auto-pauses (the workflow uses app statuses for nothing else).

/**
 * Stores a report with `store` and says whether it moved the agent's part of its task's status.
 * Before and after are read under a lock on the agent row, in one transaction with the write: of
 * two racing reports (ready, healthy) the second sees the first, so one of them always wakes.
 */
export async function movesTaskStatus(em: EntityManager, agentId: string, store: (tx: EntityManager) => Promise<unknown>): Promise<boolean> {
  return em.transactional(async (t) => {
    const tx = t as EntityManager;
    const before = await lockedAgentStatus(tx, agentId);
    await store(tx);
    return before !== (await lockedAgentStatus(tx, agentId));
  });
}

const SIGNAL_TIMEOUT_MS = 3_000;

type Deps = { temporal: Client; em: EntityManager; log: Logger };

export async function signalAgentReport(
  deps: Deps,
  workspaceId: string,
  report: AgentReport,
  relevant: boolean,
): Promise<void> {
  if (!relevant) return;
  const target = await reportTarget(deps.em, workspaceId);
  if (!target || target.buildNumber !== report.buildNumber || target.transition !== 'start') return;
  if (report.kind === 'app_status' && !target.autoPauses) return;
  await signalWithin(deps, target.taskId, report.kind, (h) => h.signal(agentReportSignal, report));
}

/**
 * Sends a signal to the task's workflow, giving up (logged) after SIGNAL_TIMEOUT_MS: what it announces
 * is stored already. The deadline is the gRPC call's own, so the client's retries of an unreachable
 * Temporal end with it instead of going on in the background (and into a connection closed meanwhile).
 */
async function signalWithin(deps: Deps, taskId: string, what: string, send: (h: WorkflowHandle) => Promise<void>): Promise<void> {
  try {
    await deps.temporal.connection.withDeadline(Date.now() + SIGNAL_TIMEOUT_MS, () => send(deps.temporal.workflow.getHandle(taskWorkflowId(taskId))));
  } catch (err) {
    deps.log.info({ err: (err as Error).message, taskId, kind: what }, 'stored but not signalled');
  }
}

/** Wakes the task's workflow to deliver its next queued input (the send queue). */
export function signalQueuedInputs(deps: Deps, taskId: string): Promise<void> {
  return signalWithin(deps, taskId, 'queued_inputs', (h) => h.signal(queuedInputsSignal));
}

/**
 * An app that reports anything but `working` (idle, complete, failure) may take input again: when the
 * workspace's task has inputs queued, its workflow is woken to deliver one (the delivery checks that the
 * task is active). One indexed lookup, which finds nothing for almost every report.
 */
export async function wakeQueueOnIdle(deps: Deps, workspaceId: string, state: string): Promise<void> {
  if (state === 'working') return;
  const taskId = await taskWithOpenQueue(deps.em, workspaceId);
  if (taskId) await signalQueuedInputs(deps, taskId);
}
