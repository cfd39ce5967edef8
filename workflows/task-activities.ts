import { proxyActivities } from '@temporalio/workflow';
import type { TaskActivities } from '../activities';

// Retry and timeout policy per kind of activity. Database steps retry without limit (they are
// idempotent, and an outage should delay a task, not fail it); the provisioner gets a bounded
// number of attempts and heartbeats, so a worker killed mid-build is noticed within seconds.

/** Short database writes: retried until the database answers. */
export const records = proxyActivities<TaskActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/** Side notes (notifications) must never hold a task up for long: a few attempts, then logged. */
export const sideEffects = proxyActivities<TaskActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 5 },
});

/** The driver call: minutes at most, heartbeating every few seconds (activities/provision.ts). */
export const provisioning = proxyActivities<TaskActivities>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '6s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/** How long a build for a host-bound workspace waits for that host's worker before failing. */
export const HOST_PICKUP_TIMEOUT = '5m';
