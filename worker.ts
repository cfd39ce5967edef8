// Production entry of the Temporal worker: external Postgres (DATABASE_URL) and Temporal (TEMPORAL_ADDRESS).
import http from 'node:http';
import { ConfigError, loadConfig } from './lib/config';
import { createLogger } from './lib/logger';
import { openOrm } from './db/orm';
import { createTaskdWorker } from './worker/taskd-worker';
import { retryUntilReady } from './lib/retry';

export async function runWorker(config: ReturnType<typeof loadConfig>, log = createLogger(config.logLevel)) {
  if (!config.database.url) throw new ConfigError([{ variable: 'DATABASE_URL', problem: 'is required for the worker' }]);
  const url = config.database.url;
  const orm = await retryUntilReady('PostgreSQL', () => openOrm({ url, poolMax: config.database.poolMax }), { log });
  const { worker, connection } = await retryUntilReady('Temporal', () => createTaskdWorker({ config, orm, log }), { log });
  let health: http.Server | undefined;
  if (config.worker.healthPort !== undefined) {
    // lets an orchestrator tell a wedged worker from a live one
    health = http
      .createServer((_req, res) => {
        const running = worker.getState() === 'RUNNING';
        res.writeHead(running ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: worker.getState() }));
      })
      .listen(config.worker.healthPort, config.http.host);
  }
  log.info({ taskQueue: config.temporal.taskQueue }, 'worker started');
  const stop = () => worker.shutdown();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await worker.run();
  } finally {
    health?.close();
    await connection.close();
    await orm.close();
    log.info('worker stopped');
  }
}

if (require.main === module) {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  runWorker(config).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
