import type { InjectedSinks } from '@temporalio/worker';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createRegistry } from '../lib/metrics';
import type { TaskMetricsSinks } from '../workflows/task-metrics';

// The worker's metrics: what happened to tasks (builds by transition and outcome, how long starts
// took to settle), reported by the task workflow through a sink, and how far the notification
// outbox is behind. One set per process: a process that runs several workers (tests) counts them
// together, as Prometheus would sum the workers of one host anyway.

export interface OutboxBacklog {
  pending: number;
  oldestSeconds: number;
}

/** From an echo workspace's sub-second start to a container image's first pull. */
const SETTLE_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800];
/** From a delivery within the outbox's first poll to one that went through every retry. */
const LAG_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];

export class WorkerMetrics {
  readonly registry: Registry = createRegistry();
  private readonly transitions = new Counter({
    name: 'taskd_task_transitions_total',
    help: 'Workspace builds of tasks that ended, by transition (start, stop, delete), reason (the operation that asked for it) and outcome.',
    labelNames: ['transition', 'reason', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly settle = new Histogram({
    name: 'taskd_task_settle_seconds',
    help: 'Time from a create or resume request until its start settled (agent ready and task app healthy, or a deadline missed), by kind and the status reached.',
    labelNames: ['kind', 'status'] as const,
    buckets: SETTLE_BUCKETS,
    registers: [this.registry],
  });
  private readonly deliveries = new Counter({
    name: 'taskd_notification_deliveries_total',
    help: 'Notification delivery attempts by outcome: sent, retry (rescheduled) or failed (given up).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly deliveryLag = new Histogram({
    name: 'taskd_notification_delivery_lag_seconds',
    help: 'Time from a notification entering the outbox to its delivery (or to giving up on it).',
    labelNames: ['outcome'] as const,
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });
  private backlogProbe: (() => Promise<OutboxBacklog>) | null = null;
  private backlogRead: Promise<OutboxBacklog | null> | null = null;

  constructor() {
    // collect() runs with the gauge as `this`
    const readBacklog = () => this.readBacklog();
    new Gauge({
      name: 'taskd_notification_outbox_pending',
      help: 'Notifications in the outbox not yet delivered (due, or waiting for a retry).',
      registers: [this.registry],
      async collect() {
        const backlog = await readBacklog();
        if (backlog) this.set(backlog.pending);
      },
    });
    new Gauge({
      name: 'taskd_notification_outbox_lag_seconds',
      help: 'Age of the oldest notification not yet delivered (0 when the outbox is empty): how far delivery is behind.',
      registers: [this.registry],
      async collect() {
        const backlog = await readBacklog();
        if (backlog) this.set(backlog.oldestSeconds);
      },
    });
  }

  /** The task workflow's sink (workflows/task-metrics.ts); its calls are skipped when a history is replayed. */
  sinks(): InjectedSinks<TaskMetricsSinks> {
    return {
      taskMetrics: {
        buildFinished: { fn: (_info, e) => this.transitions.inc({ transition: e.transition, reason: e.reason, outcome: e.outcome }) },
        startSettled: { fn: (_info, e) => this.settle.observe({ kind: e.kind, status: e.status }, e.seconds) },
      },
    };
  }

  /** One delivery attempt of the outbox loop; `enqueuedAt` is the row's created_at. */
  delivered(outcome: 'sent' | 'retry' | 'failed', enqueuedAt: Date | string): void {
    this.deliveries.inc({ outcome });
    if (outcome !== 'retry') this.deliveryLag.observe({ outcome }, Math.max(0, Date.now() - new Date(enqueuedAt).getTime()) / 1000);
  }

  /** Lets scrapes read the outbox's backlog (a running outbox loop sets it); returns the undo. */
  watchOutbox(probe: () => Promise<OutboxBacklog>): () => void {
    this.backlogProbe = probe;
    return () => {
      if (this.backlogProbe === probe) this.backlogProbe = null;
    };
  }

  /** One query per scrape, shared by both gauges; a failed read leaves them as they were. */
  private readBacklog(): Promise<OutboxBacklog | null> {
    const probe = this.backlogProbe;
    if (!probe) return Promise.resolve(null);
    this.backlogRead ??= probe()
      .catch(() => null)
      .finally(() => {
        this.backlogRead = null;
      });
    return this.backlogRead;
  }
}

let shared: WorkerMetrics | undefined;

/** This process's worker metrics, made on first use. */
export function workerMetrics(): WorkerMetrics {
  shared ??= new WorkerMetrics();
  return shared;
}

/** The Temporal SDK's own metrics, from the Runtime's Prometheus exporter, to append to a scrape. */
export async function temporalMetricsText(address: string | undefined): Promise<string> {
  if (!address) return '';
  try {
    const res = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? await res.text() : '';
  } catch {
    // the scrape still answers with taskd's own families; Temporal's are missing from it
    return '';
  }
}
