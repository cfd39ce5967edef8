import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../devstack/free-port';
import { createScratchDatabase } from '../../devstack/scratch-database';
import { findPostgresProcesses, startPostgres } from '../../devstack/postgres';
import { spawnServerProcess, whileAlive, type DevstackLogger, type ServerProcess } from '../../devstack/processes';
import { ensureTemporalCli } from '../../devstack/temporal-cli';
import { startTemporalDevServer } from '../../devstack/temporal-server';
import { ensureTemporalServer, startTemporalCluster } from '../../devstack/temporal-cluster';
import { SEARCH_ATTRIBUTES } from '../../workflows/contracts';
import { enableSqlStats } from './sql-stats';

// A private taskd for one benchmark run, every part in its own process as in production:
// PostgreSQL, the Temporal dev server, `api/server.ts` and `worker.ts` (plus any baseline the
// benchmark adds), all on loopback. Separate processes let the report say which one used the CPU
// and memory, and keep the load generator out of the server's event loop.

export const ROOT = path.resolve(__dirname, '..', '..');

export interface BenchProcess {
  name: string;
  pid: number;
  /** every pid that belongs to it (PostgreSQL forks a backend per connection) */
  members(): number[];
}

export interface BenchStackOptions {
  /** a running PostgreSQL (superuser URL): a fresh database is created in it instead of a cluster */
  postgresUrl?: string;
  /** a running Temporal server instead of a private dev server */
  temporalAddress?: string;
  /** `node --cpu-prof` for these children (env BENCH_CPU_PROF=api,worker); profiles land in workDir */
  cpuProfile?: string[];
  /**
   * The dev server's SQLite store: a file as `npm start` keeps it (default), or memory
   * (env BENCH_TEMPORAL_DB=memory) to see what the file's writes cost
   */
  temporalDb?: 'file' | 'memory';
  /**
   * Which Temporal: the dev server `npm start` runs (default), or Temporal's own server on this run's
   * PostgreSQL (env BENCH_TEMPORAL=cluster; devstack/temporal-cluster.ts, as test/cluster/ runs it)
   */
  temporal?: 'dev' | 'cluster';
  /** start the taskd worker (default true) */
  worker?: boolean;
  log?: DevstackLogger;
}

export interface BenchStack {
  workDir: string;
  baseUrl: string;
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
  /** pg_stat_statements is loaded in the run's PostgreSQL (env BENCH_SQL=1; bench/lib/sql-stats.ts) */
  sqlStats: boolean;
  /** the dev server's Prometheus endpoint (bench/lib/temporal-metrics.ts); null on another server */
  temporalMetricsUrl: string | null;
  processes: BenchProcess[];
  log: DevstackLogger;
  /** Starts another Node program of the run (a baseline) as a child; stopped with the stack. */
  spawnNode(name: string, script: string, env: Record<string, string>, ready: (signal: AbortSignal) => Promise<void>): Promise<ServerProcess>;
  stop(): Promise<void>;
}

export const quietLog: DevstackLogger = {
  info: (msg) => {
    if (process.env.BENCH_VERBOSE === '1') process.stderr.write(`${msg}\n`);
  },
  warn: (msg) => process.stderr.write(`warn: ${msg}\n`),
  error: (msg) => process.stderr.write(`error: ${msg}\n`),
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls an HTTP endpoint until it answers 200. */
export async function waitForHttpOk(url: string, signal: AbortSignal, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms: ${last}`);
}

/** Variables of lib/config.ts that must not leak from the caller's shell into the children. */
const CLEARED = ['NOTIFY_WEBHOOK_URL', 'NOTIFY_WEBHOOK_SECRET', 'ANTHROPIC_API_KEY', 'TASKD_ACCESS_URL', 'TEMPORAL_CLI'];

export async function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  const log = options.log ?? quietLog;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-bench-'));
  // the private PostgreSQL runs as the postgres user when we are root: it must be able to traverse
  fs.chmodSync(workDir, 0o711);
  const suffix = randomBytes(4).toString('hex');
  const stops: (() => Promise<void>)[] = [];
  const processes: BenchProcess[] = [];
  const profiled = new Set(options.cpuProfile ?? (process.env.BENCH_CPU_PROF ?? '').split(',').filter(Boolean));
  let keep = profiled.size > 0 || process.env.BENCH_KEEP === '1';

  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch((err) => log.warn(`stopping: ${(err as Error).message}`));
    if (keep) process.stderr.write(`bench: logs and profiles kept in ${workDir}\n`);
    else fs.rmSync(workDir, { recursive: true, force: true });
  };

  const spawnNode: BenchStack['spawnNode'] = async (name, script, env, ready) => {
    const nodeArgs = profiled.has(name) ? ['--cpu-prof', `--cpu-prof-dir=${path.join(workDir, 'profiles', name)}`] : [];
    const cleared = Object.fromEntries(CLEARED.map((k) => [k, '']));
    const child = await spawnServerProcess({
      name,
      command: process.execPath,
      args: [...nodeArgs, '--import', 'tsx', path.join(ROOT, script)],
      env: { ...process.env, ...cleared, ...env },
      cwd: ROOT,
      log,
      logFile: path.join(workDir, `${name}.log`),
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 20_000,
    });
    stops.push(() => child.stop());
    try {
      await whileAlive(child, name, ready);
    } catch (err) {
      await child.stop().catch(() => {});
      throw err;
    }
    processes.push({ name, pid: child.pid, members: () => [child.pid] });
    return child;
  };

  const temporalDb = options.temporalDb ?? (process.env.BENCH_TEMPORAL_DB === 'memory' ? 'memory' : 'file');
  const cluster = (options.temporal ?? process.env.BENCH_TEMPORAL) === 'cluster';
  try {
    let postgresUrl = options.postgresUrl;
    let temporalAddress = options.temporalAddress;
    const metricsPort = temporalAddress || cluster ? null : await freePort();
    // counting statements needs the library loaded at start: only in a private cluster
    const sqlStats = process.env.BENCH_SQL === '1' && !postgresUrl;
    const [pgServer, temporal] = await Promise.all([
      postgresUrl
        ? undefined
        : startPostgres({
            dataDir: path.join(workDir, 'pg'),
            fsync: true,
            logFile: path.join(workDir, 'postgres.log'),
            settings: sqlStats ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.max': '1000' } : {},
            log,
          }),
      temporalAddress || cluster
        ? undefined
        : ensureTemporalCli({ toolsDir: path.join(ROOT, '.tools'), log }).then((cliPath) =>
            startTemporalDevServer({
              cliPath,
              dbFile: temporalDb === 'memory' ? undefined : path.join(workDir, 'temporal.db'),
              uiPort: null,
              searchAttributes: SEARCH_ATTRIBUTES,
              logFile: path.join(workDir, 'temporal.log'),
              metricsPort: metricsPort ?? undefined,
              log,
            }),
          ),
    ]);
    if (pgServer) {
      stops.push(() => pgServer.stop());
      const dataDir = path.join(workDir, 'pg');
      processes.push({ name: 'postgres', pid: pgServer.pid, members: () => findPostgresProcesses(dataDir) });
      postgresUrl = pgServer.url;
    }
    if (temporal) {
      stops.push(() => temporal.stop());
      processes.push({ name: 'temporal', pid: temporal.pid, members: () => [temporal.pid] });
      temporalAddress = temporal.address;
    }
    if (cluster && !temporalAddress) {
      // its history and visibility in two more databases of the same PostgreSQL, whose CPU then counts both
      const server = await startTemporalCluster({
        binaries: await ensureTemporalServer({ log }),
        postgresUrl: postgresUrl ?? pgServer!.url,
        searchAttributes: SEARCH_ATTRIBUTES,
        logFile: path.join(workDir, 'temporal.log'),
        log,
      });
      stops.push(() => server.stop());
      processes.push({ name: 'temporal', pid: server.pid, members: () => [server.pid] });
      temporalAddress = server.address;
    }
    const databaseUrl = pgServer ? pgServer.url : await createScratchDatabase(postgresUrl!, 'bench');

    const apiPort = await freePort();
    const taskQueue = `bench-${suffix}`;
    const common = {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress!,
      TEMPORAL_TASK_QUEUE: taskQueue,
      TASKD_HOST_ID: `bench-${suffix}`,
      TASKD_DATA_DIR: path.join(workDir, 'data'),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    };
    const baseUrl = `http://127.0.0.1:${apiPort}`;
    // the API migrates before it answers ready; the worker starts on the migrated schema
    await spawnNode('api', 'api/server.ts', { ...common, PORT: String(apiPort), TASKD_MIGRATE: '1' }, (signal) =>
      waitForHttpOk(`${baseUrl}/readyz`, signal),
    );
    if (options.worker !== false) {
      const healthPort = await freePort();
      await spawnNode('worker', 'worker.ts', { ...common, PORT: '0', WORKER_HEALTH_PORT: String(healthPort) }, (signal) =>
        waitForHttpOk(`http://127.0.0.1:${healthPort}/`, signal, 120_000),
      );
    }
    if (sqlStats) await enableSqlStats(databaseUrl);
    const temporalMetricsUrl = metricsPort === null ? null : `http://127.0.0.1:${metricsPort}/metrics`;
    return { workDir, baseUrl, databaseUrl, temporalAddress: temporalAddress!, taskQueue, sqlStats, temporalMetricsUrl, processes, log, spawnNode, stop };
  } catch (err) {
    keep = true;
    await stop();
    throw err;
  }
}
