// Per-test-file slice of the real stack started by test/run.ts: a fresh migrated database, a task queue
// of its own, an in-process worker running the pre-built workflow bundle, and the API on a free port.
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Client as TemporalClient } from '@temporalio/client';
import { createApp } from '../../api/app';
import { answerMalformedRequests } from '../../api/http-server';
import { acceptWebSockets } from '../../api/websocket-upgrade';
import { loadConfig, type Config } from '../../lib/config';
import { createLogger, type Logger } from '../../lib/logger';
import { connectTemporal } from '../../lib/temporal';
import { createTaskdWorker } from '../../worker/taskd-worker';
import { migrate, openOrm, type Orm } from '../../db/orm';
import { TaskEvents } from '../../api/watch/task-events';
import { SessionCache } from '../../api/auth/session-cache';
import { freePort } from '../../devstack/free-port';
import { createScratchDatabase } from '../../devstack/scratch-database';
import { stopAllWorkspaces } from '../../provisioner/process';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiRequestOptions {
  token?: string;
  body?: unknown;
  /** sent as-is (for malformed-JSON tests) */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestStack {
  baseUrl: string;
  config: Config;
  orm: Orm;
  /** the API's session cache (api/auth/session-cache.ts) */
  sessions: SessionCache;
  temporal: TemporalClient;
  log: Logger;
  databaseUrl: string;
  api<T = any>(method: string, path: string, opts?: ApiRequestOptions): Promise<ApiResponse<T>>;
  /** stops the in-process worker (e.g. to simulate a crash) and returns a function that starts a new one */
  stopWorker(): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run integration tests through \`npm test -- <file>\` (test/run.ts)`);
  return v;
}

export async function startTestStack(opts: { env?: Record<string, string>; worker?: boolean } = {}): Promise<TestStack> {
  const databaseUrl = await createScratchDatabase(requireEnv('TASKD_TEST_PG_URL'), 't');
  const bundlePath = requireEnv('TASKD_TEST_WORKFLOW_BUNDLE');
  const suffix = randomBytes(4).toString('hex');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-file-'));
  // sandboxed workspaces run as users of their own, who must be able to reach their folders in it
  fs.chmodSync(dataDir, 0o711);
  const port = await freePort();
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: '5',
    TEMPORAL_ADDRESS: requireEnv('TASKD_TEST_TEMPORAL_ADDRESS'),
    TEMPORAL_TASK_QUEUE: `test-${suffix}`,
    TASKD_HOST_ID: `host-${suffix}`,
    TASKD_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...opts.env,
  });
  const log = createLogger(config.logLevel, 'test');
  const orm = await openOrm({ url: databaseUrl, poolMax: config.database.poolMax, preparedStatements: config.database.preparedStatements });
  await migrate(orm);
  const { connection, client } = await connectTemporal({
    address: config.temporal.address!,
    namespace: config.temporal.namespace,
    log,
  });

  let workerStop: (() => Promise<void>) | null = null;
  const startWorker = async () => {
    const { worker, connection: nc } = await createTaskdWorker({
      config,
      orm,
      log,
      workflowBundle: { codePath: bundlePath },
    });
    const running = worker.run();
    workerStop = async () => {
      worker.shutdown();
      await running.catch(() => {});
      await nc.close();
    };
  };
  if (opts.worker !== false) await startWorker();

  const sessions = new SessionCache({ ttlMs: config.http.authCacheMs });
  const events = new TaskEvents({ databaseUrl, log, channels: [sessions] });
  await events.start();
  const app = createApp({ config, orm, temporal: client, log, events, sessions });
  const { stop: stopServer, url: baseUrl } = await listenOnLoopback(app, port);

  return {
    baseUrl,
    config,
    orm,
    sessions,
    temporal: client,
    log,
    databaseUrl,
    async api(method, p, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.token) headers['Coder-Session-Token'] = o.token;
      let body: string | undefined;
      if (o.rawBody !== undefined) body = o.rawBody;
      else if (o.body !== undefined) body = JSON.stringify(o.body);
      if (body !== undefined && !headers['Content-Type']) headers['Content-Type'] = 'application/json';
      const res = await fetch(baseUrl + p, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      if ((res.headers.get('content-type') ?? '').includes('json') && text.length > 0) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      return { status: res.status, body: parsed as any, headers: res.headers };
    },
    async stopWorker() {
      const stop = workerStop;
      workerStop = null;
      if (stop) await stop();
      return startWorker;
    },
    async close() {
      await events.close();
      await stopServer();
      if (workerStop) await workerStop();
      // process-driver workspaces outlive a worker by design; a test file must not leave them behind
      await stopAllWorkspaces({ dataDir, log, stopGraceMs: 2_000 });
      await connection.close();
      await orm.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Another API process on the stack's database and Temporal, as a second replica would be — but
 * without the change listener (so without live updates or the session cache).
 */
export async function startSecondApi(stack: TestStack, config: Config = stack.config): Promise<{ url: string; close(): Promise<void> }> {
  const app = createApp({ config, orm: stack.orm, temporal: stack.temporal, log: stack.log });
  const { stop, url } = await listenOnLoopback(app, 0);
  return { url, close: stop };
}

/** Serves an API app on 127.0.0.1 (port 0: any free one) as api/server.ts does, once it listens. */
async function listenOnLoopback(app: ReturnType<typeof createApp>, port: number) {
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
  answerMalformedRequests(server);
  const sockets = acceptWebSockets(server as Server, app.fetch);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  // open WebSockets would keep server.close() waiting: they end first
  const stop = () =>
    new Promise<void>((resolve) => {
      sockets.close();
      server.close(() => resolve());
    });
  return { server, stop, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
