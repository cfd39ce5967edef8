import type { ActivityDeps } from '../activities/deps';
import { DEFAULT_DELIVERY_POLICY, deliverNextNotification, type DeliveryPolicy } from './notification-delivery';
import { outboxBacklog } from '../db/notifications';
import { fork } from '../db/sql';
import type { WorkerMetrics } from './metrics';

// The delivery loop of the notification outbox, run by every worker next to its Temporal pollers.
// Why a loop and not an activity per message: rows come from two places (task workflows and the
// agent's app-status route, which has no workflow to schedule anything), a webhook outage must not
// park thousands of retrying activities in task workflows, and the backoff schedule lives in the
// row, so it survives restarts and is visible with one SQL query. SKIP LOCKED lets any number of
// workers share the outbox.

export interface NotificationOutbox {
  stop(): Promise<void>;
}

export function startNotificationOutbox(
  deps: ActivityDeps,
  opts: { pollIntervalMs?: number; policy?: DeliveryPolicy; metrics?: WorkerMetrics } = {},
): NotificationOutbox {
  const pollIntervalMs = opts.pollIntervalMs ?? 1_000;
  const policy = opts.policy ?? DEFAULT_DELIVERY_POLICY;
  const log = deps.log.child({ component: 'notification-outbox' });
  if (deps.config.notify.webhookUrl && !deps.config.notify.webhookSecret) {
    log.warn('NOTIFY_WEBHOOK_URL is set without NOTIFY_WEBHOOK_SECRET: webhook calls go out unsigned');
  }
  let stopped = false;
  let wake: (() => void) | null = null;
  let failures = 0;
  const unwatch = opts.metrics?.watchOutbox(() => outboxBacklog(fork(deps.orm)));

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  const loop = (async () => {
    while (!stopped) {
      try {
        while (!stopped && (await deliverNextNotification(deps, policy, opts.metrics))) {
          // drain everything that is due before sleeping
        }
        failures = 0;
      } catch (err) {
        // the database is down or the pool is closing: back off, never crash the worker
        failures += 1;
        if (!stopped && (failures === 1 || failures % 30 === 0)) log.warn({ err }, 'notification outbox cannot reach the database');
      }
      if (!stopped) await sleep(failures > 0 ? Math.min(pollIntervalMs * 2 ** failures, 30_000) : pollIntervalMs);
    }
  })();

  return {
    async stop() {
      unwatch?.();
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
