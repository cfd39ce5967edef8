import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

// Knowing the moment a task reaches a state, without polling the API (which would load the
// server being measured and round every figure up to the polling interval): the database notifies
// every change (taskd's triggers, channel taskd_task_events, payload "<task id>:<kind>:..."), and
// the watcher reads the changed rows back once per burst of notifications. A slow sweep covers a
// notification that arrived before its waiter.

export interface WatchSource<S> {
  channel: string;
  /**
   * Run on the listener's connection before it listens: installs what notifies changes the product's
   * own notifications leave out; returns the extra channels to listen on and how to remove it again.
   */
  install?(client: pg.Client): Promise<{ channels: string[]; uninstall(client: pg.Client): Promise<void> }>;
  /** the id a notification payload is about */
  idOf(payload: string): string;
  /** the current state of these ids (missing ids are simply absent) */
  load(pool: pg.Pool, ids: string[]): Promise<Map<string, S>>;
}

interface Waiter<S> {
  predicate(state: S): boolean;
  resolve(v: { at: number; state: S }): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const SWEEP_MS = 500;

export class RowWatch<S> {
  private readonly waiters = new Map<string, Set<Waiter<S>>>();
  private dirty = new Set<string>();
  private running = false;
  private readonly sweep: NodeJS.Timeout;
  private closed = false;
  /** removes what the source installed (set once installed) */
  private uninstall: ((client: pg.Client) => Promise<void>) | null = null;

  private constructor(
    private readonly listener: pg.Client,
    private readonly pool: pg.Pool,
    private readonly source: WatchSource<S>,
  ) {
    this.sweep = setInterval(() => {
      for (const id of this.waiters.keys()) this.dirty.add(id);
      void this.pump();
    }, SWEEP_MS);
  }

  static async start<S>(databaseUrl: string, source: WatchSource<S>): Promise<RowWatch<S>> {
    const listener = new pg.Client({ connectionString: databaseUrl });
    await listener.connect();
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    const watch = new RowWatch(listener, pool, source);
    listener.on('notification', (n) => {
      if (!n.payload) return;
      const id = source.idOf(n.payload);
      if (!watch.waiters.has(id)) return;
      watch.dirty.add(id);
      void watch.pump();
    });
    try {
      const installed = source.install ? await source.install(listener) : null;
      watch.uninstall = installed?.uninstall ?? null;
      for (const channel of [source.channel, ...(installed?.channels ?? [])]) await listener.query(`listen ${channel}`);
    } catch (err) {
      await watch.close();
      throw err;
    }
    return watch;
  }

  /** Resolves with the time (performance.now()) the state first matched; rejects after timeoutMs. */
  until(id: string, predicate: (state: S) => boolean, timeoutMs: number): Promise<{ at: number; state: S }> {
    return new Promise((resolve, reject) => {
      const set = this.waiters.get(id) ?? new Set<Waiter<S>>();
      this.waiters.set(id, set);
      const waiter: Waiter<S> = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.remove(id, waiter);
          reject(new Error(`${id} did not reach the awaited state within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      set.add(waiter);
      // the state may already match (or change before the first notification is read)
      this.dirty.add(id);
      void this.pump();
    });
  }

  private remove(id: string, waiter: Waiter<S>): void {
    clearTimeout(waiter.timer);
    const set = this.waiters.get(id);
    set?.delete(waiter);
    if (set?.size === 0) this.waiters.delete(id);
  }

  private async pump(): Promise<void> {
    if (this.running || this.closed) return;
    this.running = true;
    try {
      while (this.dirty.size > 0 && !this.closed) {
        const ids = [...this.dirty].filter((id) => this.waiters.has(id));
        this.dirty = new Set();
        if (ids.length === 0) break;
        let states: Map<string, S>;
        try {
          states = await this.source.load(this.pool, ids);
        } catch {
          // a failed read is retried by the next notification or sweep
          continue;
        }
        const at = performance.now();
        for (const [id, state] of states) {
          for (const w of [...(this.waiters.get(id) ?? [])]) {
            if (!w.predicate(state)) continue;
            this.remove(id, w);
            w.resolve({ at, state });
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweep);
    for (const [id, set] of this.waiters) {
      for (const w of [...set]) {
        this.remove(id, w);
        w.reject(new Error('watch closed'));
      }
    }
    if (this.uninstall) await this.uninstall(this.listener).catch(() => {});
    await this.listener.end().catch(() => {});
    await this.pool.end().catch(() => {});
  }
}

/** A task as the lifecycle benchmarks wait on it. */
export interface TaskState {
  /** status from tasks_with_status; null once the task is deleted */
  status: string | null;
  deleted: boolean;
  workspaceDeleted: boolean;
  buildNumber: number | null;
  transition: string | null;
  jobStatus: string | null;
}

/**
 * taskd notifies nothing about a task once it is deleted — the API answers 404 for it from the moment the
 * delete is accepted — so the end of its delete build (the workspace deleted) would only be seen by the
 * watcher's sweep, up to SWEEP_MS late (it was: 260–280 ms of a 1-in-flight delete's ~60 ms). The
 * benchmark's own trigger, on a channel of its own, tells the watcher instead, as the floor's one activity
 * notifies its watcher. Named per watch, so watchers sharing a database (the tests') never remove each
 * other's; removed when the watch closes.
 */
function workspaceDeletedTrigger(suffix: string) {
  const name = `taskd_bench_workspace_deleted_${suffix}`;
  return {
    channel: name,
    create: `
create function ${name}() returns trigger language plpgsql as $$
begin
  perform pg_notify('${name}', t.id::text || ':workspace-deleted')
     from new_rows n join old_rows o on o.id = n.id join tasks t on t.workspace_id = n.id
    where n.deleted and not o.deleted;
  return null;
end $$;
create trigger ${name} after update on workspaces
  referencing old table as old_rows new table as new_rows
  for each statement execute function ${name}();`,
    drop: `drop trigger if exists ${name} on workspaces; drop function if exists ${name}()`,
  };
}

export const taskSource: WatchSource<TaskState> = {
  channel: 'taskd_task_events',
  idOf: (payload) => payload.slice(0, payload.indexOf(':')),
  async install(client) {
    const trigger = workspaceDeletedTrigger(randomBytes(4).toString('hex'));
    await client.query(trigger.create);
    return {
      channels: [trigger.channel],
      async uninstall(c) {
        await c.query(trigger.drop);
      },
    };
  },
  async load(pool, ids) {
    // a named statement: PostgreSQL plans the view's joins once per connection, not on every read, so
    // the watcher's own load on the database measured beside taskd stays small (planning and running
    // this read were 45 % of PostgreSQL's statement time in a run at 100 in flight)
    const { rows } = await pool.query<{
      id: string; status: string | null; deleted: boolean; workspace_deleted: boolean | null;
      build_number: number | null; transition: string | null; job_status: string | null;
    }>({
      name: 'bench_task_state',
      text: `select t.id, v.status, t.deleted_at is not null as deleted, w.deleted as workspace_deleted,
              b.build_number, b.transition, b.job_status
         from tasks t
         left join tasks_with_status v on v.id = t.id
         left join workspaces w on w.id = t.workspace_id
         left join lateral (
           select build_number, transition, job_status from workspace_builds
            where workspace_id = t.workspace_id order by build_number desc limit 1
         ) b on true
        where t.id = any($1::uuid[])`,
      values: [ids],
    });
    return new Map(
      rows.map((r) => [
        r.id,
        {
          status: r.status,
          deleted: r.deleted,
          workspaceDeleted: r.workspace_deleted === true,
          buildNumber: r.build_number,
          transition: r.transition,
          jobStatus: r.job_status,
        },
      ]),
    );
  },
};
