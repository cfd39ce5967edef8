import pg from 'pg';
import type { Logger } from '../../lib/logger';

// Live task changes for one API process. The database triggers (migration 20261125164844) NOTIFY
// `taskd_task_events` after every commit that changes what a Task object or its conversation shows;
// this module holds the process's ONE LISTEN connection and fans changes out to in-process
// subscribers (the SSE watch streams), so the database sees one listener per process rather than
// one poller per browser tab.
//
// Bursts are coalesced: the first notification of a quiet period opens a short window, and every
// notification inside it is delivered together, once per task, with the union of its kinds. A
// window is never extended, so a change reaches subscribers within `coalesceMs` of its commit.
//
// Notifications sent while the connection is down are lost by design of LISTEN/NOTIFY, so after a
// reconnect every subscriber is told to resync (re-read everything it shows).

export const TASK_EVENTS_CHANNEL = 'taskd_task_events';
/** Connections show up under this name in pg_stat_activity (and tests find it by it). */
export const TASK_EVENTS_APPLICATION_NAME = 'taskd-task-events';

export const TASK_EVENT_KINDS = ['task', 'deleted', 'build', 'agent', 'app', 'state', 'log'] as const;
export type TaskEventKind = (typeof TASK_EVENT_KINDS)[number];

export interface TaskChange {
  taskId: string;
  ownerId: string;
  organizationId: string;
  kinds: ReadonlySet<TaskEventKind>;
}

export interface TaskEventListener {
  /** Changes of one coalescing window that match the subscription, one entry per task. */
  onChanges(changes: TaskChange[]): void;
  /** Changes may have been missed (the connection was lost): re-read everything. */
  onResync(): void;
  /** The hub is shutting down: end the stream. */
  onClose(): void;
}

/** What a subscriber wants: one task, the tasks of some owners and/or organizations, or all. */
export type TaskInterest = { taskId: string } | { all: true } | { ownerIds: string[]; organizationIds: string[] };

/**
 * Another channel carried on the same LISTEN connection (the session cache's invalidations).
 * `onListening(false)` means notifications may be missed from now on; `onListening(true)` that
 * they are delivered again — anything derived from earlier ones must be re-read.
 */
export interface NotificationChannel {
  channel: string;
  onNotification(payload: string): void;
  onListening(listening: boolean): void;
}

export interface TaskEventsOptions {
  databaseUrl: string;
  /** further channels to LISTEN on with the same connection */
  channels?: NotificationChannel[];
  log: Logger;
  coalesceMs?: number;
  /** reconnect backoff: doubles from min to max */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** how often the idle connection is checked, so a silently dropped one is noticed */
  pingMs?: number;
}

const KIND_SET = new Set<string>(TASK_EVENT_KINDS);

/** "<task id>:<kind>:<owner id>:<organization id>", as the triggers write it; null if malformed. */
export function parseTaskEventPayload(payload: string): Omit<TaskChange, 'kinds'> & { kind: TaskEventKind } | null {
  const [taskId, kind, ownerId, organizationId, ...rest] = payload.split(':');
  if (rest.length > 0 || !taskId || !ownerId || !organizationId || !kind || !KIND_SET.has(kind)) return null;
  return { taskId, kind: kind as TaskEventKind, ownerId, organizationId };
}

export class TaskEvents {
  private readonly byTask = new Map<string, Set<TaskEventListener>>();
  private readonly byOwner = new Map<string, Set<TaskEventListener>>();
  private readonly byOrganization = new Map<string, Set<TaskEventListener>>();
  private readonly everything = new Set<TaskEventListener>();
  private pending = new Map<string, { ownerId: string; organizationId: string; kinds: Set<TaskEventKind> }>();
  private flushTimer: NodeJS.Timeout | null = null;
  private client: pg.Client | null = null;
  /** clients already torn down: 'error' and 'end' of one failure must schedule one reconnect */
  private readonly retired = new WeakSet<pg.Client>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private everConnected = false;
  private closed = false;
  private readonly coalesceMs: number;
  private readonly log: Logger;

  constructor(private readonly opts: TaskEventsOptions) {
    this.coalesceMs = opts.coalesceMs ?? 75;
    this.backoffMs = opts.backoffMinMs ?? 100;
    this.log = opts.log.child({ component: 'task-events' });
  }

  /** Connects and listens; if the database is unreachable it keeps retrying in the background. */
  async start(): Promise<void> {
    await this.connect();
  }

  get listening(): boolean {
    return this.client !== null;
  }

  subscribe(interest: TaskInterest, listener: TaskEventListener): () => void {
    const sets = this.setsFor(interest);
    for (const s of sets) s.add(listener);
    return () => {
      for (const s of sets) s.delete(listener);
      this.prune();
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of [this.flushTimer, this.reconnectTimer, this.pingTimer]) if (t) clearTimeout(t);
    const client = this.client;
    this.client = null;
    for (const listener of this.allListeners()) this.call(listener, (l) => l.onClose());
    for (const c of this.opts.channels ?? []) this.call(c, (x) => x.onListening(false));
    await client?.end().catch(() => {});
  }

  private setsFor(interest: TaskInterest): Set<TaskEventListener>[] {
    const slot = (map: Map<string, Set<TaskEventListener>>, key: string) => {
      let s = map.get(key);
      if (!s) map.set(key, (s = new Set()));
      return s;
    };
    if ('taskId' in interest) return [slot(this.byTask, interest.taskId)];
    if ('all' in interest) return [this.everything];
    return [
      ...interest.ownerIds.map((id) => slot(this.byOwner, id)),
      ...interest.organizationIds.map((id) => slot(this.byOrganization, id)),
    ];
  }

  private prune(): void {
    for (const map of [this.byTask, this.byOwner, this.byOrganization]) {
      for (const [key, s] of map) if (s.size === 0) map.delete(key);
    }
  }

  private allListeners(): Set<TaskEventListener> {
    const all = new Set(this.everything);
    for (const map of [this.byTask, this.byOwner, this.byOrganization]) for (const s of map.values()) for (const l of s) all.add(l);
    return all;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({
      connectionString: this.opts.databaseUrl,
      application_name: TASK_EVENTS_APPLICATION_NAME,
      keepAlive: true,
    });
    // before connect: a failure while connecting must not become an unhandled 'error' event
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    const channels = this.opts.channels ?? [];
    client.on('notification', (msg) => {
      if (!msg.payload) return;
      if (msg.channel === TASK_EVENTS_CHANNEL) this.receive(msg.payload);
      else for (const c of channels) if (c.channel === msg.channel) this.call(c, (x) => x.onNotification(msg.payload!));
    });
    try {
      await client.connect();
      await client.query([TASK_EVENTS_CHANNEL, ...channels.map((c) => c.channel)].map((name) => `listen ${name};`).join(' '));
    } catch (err) {
      this.lost(client, err as Error);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.backoffMs = this.opts.backoffMinMs ?? 100;
    this.schedulePing();
    const reconnected = this.everConnected;
    this.everConnected = true;
    this.log.debug({ reconnected }, 'listening for task changes');
    for (const c of channels) this.call(c, (x) => x.onListening(true));
    if (reconnected) for (const listener of this.allListeners()) this.call(listener, (l) => l.onResync());
  }

  /** Tears a broken connection down once and schedules the next attempt with backoff. */
  private lost(client: pg.Client, err: Error): void {
    if (this.retired.has(client)) return;
    this.retired.add(client);
    client.removeAllListeners('notification');
    client.on('error', () => {}); // late socket errors of a dead client are expected
    client.end().catch(() => {});
    if (this.client === client) this.client = null;
    if (this.pingTimer) clearTimeout(this.pingTimer);
    for (const c of this.opts.channels ?? []) this.call(c, (x) => x.onListening(false));
    if (this.closed) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.backoffMaxMs ?? 5_000);
    this.log.warn({ err: err.message, retryInMs: delay }, 'task change listener disconnected; reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
  }

  private schedulePing(): void {
    this.pingTimer = setTimeout(() => {
      const client = this.client;
      if (!client) return;
      client.query('select 1').then(
        () => this.schedulePing(),
        (err: Error) => this.lost(client, err),
      );
    }, this.opts.pingMs ?? 30_000);
    this.pingTimer.unref();
  }

  private receive(payload: string): void {
    const parsed = parseTaskEventPayload(payload);
    if (!parsed) {
      this.log.warn({ payload }, 'ignoring a malformed task change notification');
      return;
    }
    const entry = this.pending.get(parsed.taskId);
    if (entry) entry.kinds.add(parsed.kind);
    else this.pending.set(parsed.taskId, { ownerId: parsed.ownerId, organizationId: parsed.organizationId, kinds: new Set([parsed.kind]) });
    this.flushTimer ??= setTimeout(() => this.flush(), this.coalesceMs);
  }

  private flush(): void {
    this.flushTimer = null;
    const batch = this.pending;
    this.pending = new Map();
    const deliveries = new Map<TaskEventListener, TaskChange[]>();
    for (const [taskId, { ownerId, organizationId, kinds }] of batch) {
      const change: TaskChange = { taskId, ownerId, organizationId, kinds };
      const targets = new Set<TaskEventListener>(this.everything);
      for (const s of [this.byTask.get(taskId), this.byOwner.get(ownerId), this.byOrganization.get(organizationId)]) {
        if (s) for (const l of s) targets.add(l);
      }
      for (const l of targets) {
        const list = deliveries.get(l);
        if (list) list.push(change);
        else deliveries.set(l, [change]);
      }
    }
    for (const [listener, changes] of deliveries) this.call(listener, (l) => l.onChanges(changes));
  }

  private call<T>(listener: T, fn: (l: T) => void): void {
    try {
      fn(listener);
    } catch (err) {
      this.log.error({ err }, 'task change subscriber failed');
    }
  }
}
