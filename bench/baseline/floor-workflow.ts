// The floor baseline of a task lifecycle: the least Temporal work that can carry taskd's four
// operations. Started by update-with-start (create), then pause, resume and delete as updates, each
// answered at once with its build queued, as taskd's are; every build is exactly one activity — the
// provisioner call, which here is one PostgreSQL write that also notifies the watcher (taskd's echo
// provisioner does no more work than that) — and nothing else: no records, no notifications, no
// search attributes, no agent reports, no timers. bench/throughput.ts --floor drives it.
//
// Workflow code: bundled by bench/baseline/minimal-worker.ts; workflow-safe imports only.
import { condition, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
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

export async function floorTaskWorkflow(input: { id: string }): Promise<void> {
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
    await provisioner.provisionFloor({ id: input.id, step: ++step, transition });
    deleted = transition === 'delete';
  }
}
