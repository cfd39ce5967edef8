// Production entry of the Temporal worker: external Postgres (DATABASE_URL) and Temporal (TEMPORAL_ADDRESS).
import { useAgentTokenKey } from './lib/agent-token';
import type http from 'node:http';
import { ConfigError, loadConfig } from './lib/config';
import { createLogger } from './lib/logger';
import { openOrm } from './db/orm';
import { createTaskdWorker } from './worker/taskd-worker';
import { retryUntilReady } from './lib/retry';
import { freePort } from './lib/net';
import { metricsSource } from './lib/metrics';
import { installTemporalRuntime } from './worker/temporal-runtime';
import { temporalMetricsText, workerMetrics } from './worker/metrics';
import { serveWorkerHealth } from './worker/health-server';
import { startTracing } from './lib/tracing';

export async function runWorker(config: ReturnType<typeof loadConfig>, log = createLogger(config.logLevel)) {
  if (!config.database.url) throw new ConfigError([{ variable: 'DATABASE_URL', problem: 'is required for the worker' }]);
  // agent tokens are derived from a key kept outside the database (lib/agent-token.ts)
  useAgentTokenKey({ secret: config.secretKey, dataDir: config.dataDir });
  const url = config.database.url;
  // the Temporal SDK's metrics are served by its core on a loopback port of their own, which the
  // health port's /metrics merges into one scrape
  const temporalMetrics = config.worker.healthPort !== undefined ? `127.0.0.1:${await freePort()}` : undefined;
  installTemporalRuntime(log, { metricsAddress: temporalMetrics });
  const orm = await retryUntilReady('PostgreSQL', () => openOrm({ url, poolMax: config.database.poolMax, preparedStatements: config.database.preparedStatements }), { log });
  // traces are exported only when OTEL_EXPORTER_OTLP_ENDPOINT names a collector (README: Traces)
  const tracing = await startTracing('taskd-worker', log);
  const { worker, connection } = await retryUntilReady('Temporal', () => createTaskdWorker({ config, orm, log, tracing }), { log });
  let health: http.Server | undefined;
  if (config.worker.healthPort !== undefined) {
    health = await serveWorkerHealth({
      host: config.http.host,
      port: config.worker.healthPort,
      state: () => worker.getState(),
      metrics: metricsSource(workerMetrics().registry, () => temporalMetricsText(temporalMetrics)),
      log,
    });
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
    await tracing?.shutdown();
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
