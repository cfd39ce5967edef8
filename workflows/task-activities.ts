import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { TaskActivities } from '../activities';

// Retry and timeout policy per kind of activity. Every step is idempotent, so an outage (database,
// Temporal, a killed worker) must delay a task, never fail it: retries are bounded by total time,
// not by a count that a few crashes in a row could use up. What is really wrong (a template the
// provisioner rejects) fails at once through a non-retryable ApplicationFailure.

/** Short database writes: retried until the database answers. */
export const records = proxyActivities<TaskActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/**
 * The same short database writes as local activities: run by the worker that runs the workflow,
 * inside its workflow task, recorded as one marker event each — no activity task round trip through
 * the server. Retried in the worker for a while, then by a durable backoff timer; a worker killed
 * inside one leaves no marker, so the next worker runs it again (each is idempotent).
 */
export const localRecords = proxyLocalActivities<TaskActivities>({
  startToCloseTimeout: '20s',
  localRetryThreshold: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/** Notification enqueues: exactly one per event, so they outlast an outage like any other write. */
export const sideEffects = proxyActivities<TaskActivities>({
  startToCloseTimeout: '20s',
  scheduleToCloseTimeout: '1h',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/** The driver call: minutes at most, heartbeating every few seconds (activities/provision.ts). */
export const provisioning = proxyActivities<TaskActivities>({
  startToCloseTimeout: '15m',
  scheduleToCloseTimeout: '30m',
  heartbeatTimeout: '6s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** How long a build for a host-bound workspace waits for that host's worker before failing. */
export const HOST_PICKUP_TIMEOUT = '5m';
