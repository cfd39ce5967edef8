// The orchestration baseline: the least a Temporal workflow can do with the same shape as taskd's
// create path (workflows/task-workflow.ts + task-run.ts with the echo provisioner): started by
// update-with-start, whose update answers once the first activity has written the records; then
// three more activities in sequence (taskd: createTaskRecords → beginBuild → provisionWorkspace →
// completeBuild), each a trivial PostgreSQL write; no signals (the echo driver plays the agent, so
// no agent report arrives). The last write is the moment taskd's task reads `active`.
//
// Workflow code: bundled by bench/baseline/minimal-worker.ts; workflow-safe imports only.
import { allHandlersFinished, condition, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
import type { MinimalActivities } from './minimal-activities';

export const MINIMAL_WORKFLOW_TYPE = 'minimalTaskWorkflow';
/** answered once step 1 is written, like taskd's createTask update */
export const minimalCreatedUpdate = defineUpdate<string, []>('created');
/** activities on the path from created to active, after the first */
export const STEPS_AFTER_CREATE = 3;

// the same retry and timeout policy as taskd's database activities (workflows/task-activities.ts)
const acts = proxyActivities<MinimalActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

export async function minimalTaskWorkflow(input: { id: string }): Promise<void> {
  let created = false;
  setHandler(minimalCreatedUpdate, async () => {
    await condition(() => created);
    return input.id;
  });
  await acts.writeStep({ id: input.id, step: 1, last: false });
  created = true;
  for (let step = 2; step <= 1 + STEPS_AFTER_CREATE; step++) {
    await acts.writeStep({ id: input.id, step, last: step === 1 + STEPS_AFTER_CREATE });
  }
  await condition(allHandlersFinished);
}
