import { createBuildActivities } from './builds';
import { createNotifyActivities } from './notify';
import { createProvisionActivities, type ProvisionDeps } from './provision';
import { createQueuedInputActivities } from './queued-inputs';
import { createRecordActivities } from './records';
import { createSettleActivities } from './settle';

export type { ActivityDeps } from './deps';

/**
 * Every side effect a task workflow performs, each one idempotent under retry. Grouped by concern;
 * the names read as the story of a task in its history: createTaskRecords, createBuild,
 * beginBuild, provisionWorkspace, completeBuild | failBuild, markStartTimeout,
 * enqueueNotification, finalizeDelete.
 */
export function createActivities(deps: ProvisionDeps) {
  return {
    ...createRecordActivities(deps),
    ...createBuildActivities(deps),
    ...createProvisionActivities(deps),
    ...createSettleActivities(deps),
    ...createNotifyActivities(deps),
    ...createQueuedInputActivities(deps),
  };
}

export type TaskActivities = ReturnType<typeof createActivities>;

/**
 * What a worker's host queue (`<taskQueue>@<hostId>`) serves: only the activity that must run where
 * the workspace lives. Pass the same `provisioners` as to createActivities: the process driver
 * keeps per-workspace state.
 */
export function createHostActivities(deps: ProvisionDeps) {
  const { provisionWorkspace } = createProvisionActivities(deps);
  return { provisionWorkspace };
}
