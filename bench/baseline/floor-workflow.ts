// The floor baseline of a task lifecycle: the least Temporal work that can carry taskd's four
// operations. Started by update-with-start (create), then pause, resume and delete as updates, each
// answered at once with its build queued, as taskd's are; every build is exactly one activity — the
// provisioner call, which here is one PostgreSQL write that also notifies the watcher (taskd's echo
// provisioner does no more work than that) — and nothing else: no records, no notifications, no
// search attributes, no agent reports, no timers. bench/throughput.ts --floor drives it.
//
// Workflow code: bundled by bench/baseline/minimal-worker.ts; workflow-safe imports only.
import { condition, defineUpdate, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { MinimalActivities } from './minimal-activities';

export const FLOOR_WORKFLOW_TYPE = 'floorTaskWorkflow';

export type FloorTransition = 'start' | 'stop' | 'delete';
export const floorCreateUpdate = defineUpdate<number, []>('create');
export const floorPauseUpdate = defineUpdate<number, []>('pause');
export const floorResumeUpdate = defineUpdate<number, []>('resume');
export const floorDeleteUpdate = defineUpdate<number, []>('delete');

// the provisioner call's policy in taskd (workflows/task-activities.ts), less the host routing
const provisioner = proxyActivities<MinimalActivities>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '6s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

// taskd's status attribute (registered on the bench's namespace with the others)
const TASK_STATUS = defineSearchAttributeKey('TaskStatus', SearchAttributeType.KEYWORD);

/**
 * `upserts`: an experiment, not the floor — a status search attribute upserted before and after each
 * build (8 a lifecycle, as many as taskd's lean workflow makes), to measure what they cost alone.
 */
export async function floorTaskWorkflow(input: { id: string; upserts?: boolean }): Promise<void> {
  const queue: FloorTransition[] = [];
  let builds = 0;
  let deleted = false;
  const request = (transition: FloorTransition) => () => {
    queue.push(transition);
    return ++builds;
  };
  setHandler(floorCreateUpdate, request('start'));
  setHandler(floorPauseUpdate, request('stop'));
  setHandler(floorResumeUpdate, request('start'));
  setHandler(floorDeleteUpdate, request('delete'));
  let step = 0;
  while (!deleted) {
    await condition(() => queue.length > 0);
    const transition = queue.shift()!;
    if (input.upserts) upsertSearchAttributes([{ key: TASK_STATUS, value: transition === 'start' ? 'pending' : 'unknown' }]);
    await provisioner.provisionFloor({ id: input.id, step: ++step, transition });
    if (input.upserts) upsertSearchAttributes([{ key: TASK_STATUS, value: transition === 'start' ? 'active' : 'paused' }]);
    deleted = transition === 'delete';
  }
}
