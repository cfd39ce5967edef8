import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../context';
import { ApiError, conflict } from '../errors';
import { auditedTransaction, auditWorkflowAction, type PendingEntry } from '../audit';
import { idempotencyKey } from '../idempotency';
import { queuedInputJson, type QueuedInputJson } from '../dto/task';
import { signalQueuedInputs } from '../agent/signal';
import { connectableWorkspace } from './app-gate';
import { requestTaskBuild } from './builds';
import { orInternal } from './internal';
import { secretChange } from './audit-diff';
import { enqueueInput } from '../../db/queued-inputs';
import type { TaskRecord } from '../../db/tasks';

// The send queue (beyond Coder, README "Queued input"): POST send with ?queue=true (or the header
// Prefer: respond-async) stores the input — with its audit row, in one transaction — and wakes the
// task's workflow, which delivers queued inputs in order, one each time the AI app is idle again.
// The row is the durable record: a signal lost to an outage is made up by the app's next idle report
// or by the workflow's own retry.

/** Whether a send asks for the queue: ?queue=true, or Prefer: respond-async (RFC 7240). */
export function wantsQueue(c: Context<AppEnv>, queue: string | undefined): boolean {
  if (queue !== undefined) return queue === 'true';
  const prefer = c.req.header('Prefer') ?? '';
  return prefer.split(',').some((p) => p.trim().split(';')[0]?.trim().toLowerCase() === 'respond-async');
}

export async function queueTaskInput(
  c: Context<AppEnv>,
  deps: AppDeps,
  task: TaskRecord,
  input: string,
  resume: boolean,
): Promise<{ queued: QueuedInputJson; created: boolean }> {
  const em = c.get('em');
  const actor = c.get('actor');
  if (!task.workspaceId) throw new ApiError(400, 'Task does not have a workspace.');
  await connectableWorkspace(em, actor, task.workspaceId);
  const key = idempotencyKey(c);
  const entry: PendingEntry = { action: 'write', resourceType: 'task', resourceId: task.id, resourceTarget: task.name, organizationId: task.organizationId };
  const result = await auditedTransaction(c, async (tx) => {
    const queued = await orInternal('Internal error queueing task input.', () =>
      enqueueInput(tx, { taskId: task.id, input, createdBy: actor.userId, idempotencyKey: key }),
    );
    if (queued === 'conflict') throw conflict('Idempotency key already used.', 'An input with another text was queued under this Idempotency-Key.');
    // a replay changed nothing: it is answered, not audited again
    return { result: queued, audit: queued.created ? { ...entry, diff: secretChange('queued_input'), statusCode: 202 } : [] };
  });
  await signalQueuedInputs({ temporal: deps.temporal, em, log: c.get('log') }, task.id);
  if (resume && task.status === 'paused') await resumeForQueue(c, deps, task);
  return { queued: queuedInputJson(result.input), created: result.created };
}

/** resume=true on a paused task: its start build, audited as resume is; a build already under way is left to finish. */
async function resumeForQueue(c: Context<AppEnv>, deps: AppDeps, task: TaskRecord): Promise<void> {
  const entry: PendingEntry = { action: 'start', resourceType: 'workspace', resourceId: task.workspaceId, resourceTarget: task.name, organizationId: task.organizationId };
  try {
    await auditWorkflowAction(c, null, async (accept) => {
      await accept([entry]);
      await requestTaskBuild(deps, c.get('em'), { taskId: task.id, operation: 'resume', actor: c.get('actor'), requestId: c.get('requestId'), idempotencyKey: null });
      return [null, 202];
    });
  } catch (err) {
    // another build (a resume, a pause) got there first: the input waits for the task's next start
    if (!(err instanceof ApiError && err.status === 409)) throw err;
  }
}
