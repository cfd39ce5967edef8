// The baselines' worker process (the orchestration baseline and the throughput floor): its own task queue on the same Temporal server as
// taskd, the same default worker options, a `pg` pool of taskd's default size.
//
// Run by bench/orchestration.ts as a child process: DATABASE_URL, TEMPORAL_ADDRESS, TASK_QUEUE,
// HEALTH_PORT (answers 200 once the worker runs).
import http from 'node:http';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import { createMinimalActivities } from './minimal-activities';

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TASK_QUEUE!,
    workflowsPath: path.join(__dirname, 'workflows.ts'),
    activities: createMinimalActivities(pool),
  });
  const health = http
    .createServer((_req, res) => {
      res.writeHead(worker.getState() === 'RUNNING' ? 200 : 503);
      res.end();
    })
    .listen(Number(process.env.HEALTH_PORT), '127.0.0.1');
  process.once('SIGTERM', () => worker.shutdown());
  process.once('SIGINT', () => worker.shutdown());
  try {
    await worker.run();
  } finally {
    health.close();
    await connection.close();
    await pool.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
