import pg from 'pg';
import { freePort } from '../../devstack/free-port';
import { waitForHttpOk, type BenchStack } from '../lib/stack';
import type { WatchSource } from '../lib/task-watch';

/**
 * Creates a baseline's table and starts the baselines' worker (minimal-worker.ts) as a process of
 * the stack, on a task queue of its own; resolves with that queue once the worker runs.
 */
export async function startBaselineWorker(stack: BenchStack, name: string, tableSql: string): Promise<string> {
  const setup = new pg.Client({ connectionString: stack.databaseUrl });
  await setup.connect();
  await setup.query(tableSql);
  await setup.end();
  const taskQueue = `${stack.taskQueue}-${name}`;
  const healthPort = await freePort();
  await stack.spawnNode(
    `${name}-worker`,
    'bench/baseline/minimal-worker.ts',
    { DATABASE_URL: stack.databaseUrl, TEMPORAL_ADDRESS: stack.temporalAddress, TASK_QUEUE: taskQueue, HEALTH_PORT: String(healthPort) },
    (signal) => waitForHttpOk(`http://127.0.0.1:${healthPort}/`, signal, 120_000),
  );
  return taskQueue;
}

/** Watches a baseline's workflows by the last step each has written to `table` (notified on `channel`). */
export function latestStepSource(channel: string, table: string): WatchSource<{ step: number }> {
  return {
    channel,
    idOf: (payload) => payload,
    async load(pool, ids) {
      // named, as taskd's watcher is (bench/lib/task-watch.ts): planned once per connection
      const { rows } = await pool.query<{ workflow_id: string; step: number }>({
        name: `bench_latest_step_${table}`,
        text: `select workflow_id, max(step) as step from ${table} where workflow_id = any($1) group by workflow_id`,
        values: [ids],
      });
      return new Map(rows.map((r) => [r.workflow_id, { step: r.step }]));
    },
  };
}
