// Production entry of the HTTP API: external Postgres (DATABASE_URL) and Temporal (TEMPORAL_ADDRESS).
import { useAgentTokenKey } from '../lib/agent-token';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { connectTemporal } from '../lib/temporal';
import { migrate, openOrm } from '../db/orm';
import { TaskEvents } from './watch/task-events';
import { SessionCache } from './auth/session-cache';
import { createApp } from './app';
import { retryUntilReady } from '../lib/retry';
import { answerMalformedRequests } from './http-server';
import { acceptWebSockets } from './websocket-upgrade';
import { createRegistry, metricsSource, serveMetrics } from '../lib/metrics';
import { startTracing } from '../lib/tracing';

export async function startApiServer(config: ReturnType<typeof loadConfig>, log = createLogger(config.logLevel)) {
  if (!config.database.url) throw new ConfigError([{ variable: 'DATABASE_URL', problem: 'is required for the API' }]);
  if (!config.temporal.address) throw new ConfigError([{ variable: 'TEMPORAL_ADDRESS', problem: 'is required for the API' }]);
  // agent tokens are derived from a key kept outside the database (lib/agent-token.ts)
  useAgentTokenKey({ secret: config.secretKey, dataDir: config.dataDir });
  const url = config.database.url;
  const orm = await retryUntilReady('PostgreSQL', () => openOrm({ url, poolMax: config.database.poolMax, preparedStatements: config.database.preparedStatements }), { log });
  if (config.database.migrateOnStart) {
    const applied = await migrate(orm);
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
  }
  // traces are exported only when OTEL_EXPORTER_OTLP_ENDPOINT names a collector (README: Traces)
  const tracing = await startTracing('taskd-api', log);
  const { connection, client } = await connectTemporal({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    log,
    interceptors: tracing?.clientInterceptors(),
  });
  // one LISTEN connection per API process feeds every watch stream (api/watch/task-events.ts)
  // ... and keeps the session cache current (api/auth/session-cache.ts)
  const sessions = new SessionCache({ ttlMs: config.http.authCacheMs });
  const events = new TaskEvents({ databaseUrl: config.database.url, log, channels: [sessions] });
  await events.start();
  // metrics have a listener of their own, off unless TASKD_METRICS_ADDR names one (README: Metrics)
  const metrics = config.metrics.address ? createRegistry() : undefined;
  const app = createApp({ config, orm, temporal: client, log, events, sessions, metrics, traced: tracing !== null });
  const server = serve({ fetch: app.fetch, hostname: config.http.host, port: config.http.port });
  answerMalformedRequests(server);
  const sockets = acceptWebSockets(server as Server, app.fetch);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  log.info({ url: `http://${config.http.host}:${config.http.port}` }, 'API listening');
  const metricsServer = metrics && config.metrics.address ? await serveMetrics(config.metrics.address, metricsSource(metrics), log) : undefined;
  if (metricsServer) log.info({ address: config.metrics.address }, 'metrics served at /metrics');
  return {
    async close() {
      metricsServer?.close();
      // ends the open watch streams first: the server cannot close while they are connected
      await events.close();
      sockets.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
      await orm.close();
      await tracing?.shutdown();
    },
  };
}

if (require.main === module) {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  startApiServer(config, log)
    .then((srv) => {
      const stop = () => {
        log.info('API stopping');
        srv.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    })
    .catch((err) => {
      log.fatal({ err }, 'API failed to start');
      process.exit(1);
    });
}
