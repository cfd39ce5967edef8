// A real Temporal server on PostgreSQL (not the dev server): Temporal's own `temporal-server` and
// `temporal-sql-tool`, built from the Go module proxy at TEMPORAL_SERVER_VERSION into the machine's
// cache, the schema set up by the SQL tool in two databases of a PostgreSQL server, and all four
// services (frontend, history, matching, worker) in one process. The server is configured exactly
// as the temporalio/server image configures it — from environment variables, through the config
// template built into the binary — so what the tests run is what docker-compose.yml runs.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { msToTs } from '@temporalio/common/lib/time';
import { findGo, taskdCacheDir } from './go-toolchain';
import { waitForPort } from './free-port';
import { describeFailure, runCommand, spawnServerProcess, whileAlive, type DevstackLogger, type ServerProcess } from './processes';
import { retryOnFreshConnection, waitUntilUsable, type SearchAttributeKind } from './temporal-server';

export const TEMPORAL_SERVER_VERSION = '1.32.0';
const MODULE = 'go.temporal.io/server';
/** the `go` line of the module's go.mod */
const GO_VERSION = '1.26.8';

export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
  /** wall time of the build in ms; 0 when the cached binaries were used */
  buildMs: number;
}

export function temporalServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(taskdCacheDir(env), `temporal-server-v${TEMPORAL_SERVER_VERSION}`);
}

/**
 * `temporal-server` and `temporal-sql-tool`, built once per machine (many minutes on 2 cores; CI
 * builds them before the tests with scripts/ensure-temporal-server.ts), instant afterwards.
 */
export async function ensureTemporalServer(opts: { log: DevstackLogger; env?: NodeJS.ProcessEnv }): Promise<TemporalServerBinaries> {
  const env = opts.env ?? process.env;
  const dir = temporalServerCacheDir(env);
  const server = path.join(dir, 'temporal-server');
  const sqlTool = path.join(dir, 'temporal-sql-tool');
  if (fs.existsSync(server) && fs.existsSync(sqlTool)) return { server, sqlTool, buildMs: 0 };
  // a private folder until complete: concurrent builders never see half a binary
  const partial = `${dir}.${process.pid}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  const started = Date.now();
  opts.log.info(`Building Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool into ${dir}…`);
  const buildEnv: NodeJS.ProcessEnv = {
    ...env,
    GOBIN: partial,
    // as Temporal's release images are built: static binaries
    CGO_ENABLED: '0',
    GOFLAGS: '-buildvcs=false',
    // the module names its Go release; an older local Go fetches it from the module proxy
    GOTOOLCHAIN: env.GOTOOLCHAIN && env.GOTOOLCHAIN !== 'local' ? env.GOTOOLCHAIN : 'auto',
  };
  const v = `v${TEMPORAL_SERVER_VERSION}`;
  const result = await runCommand(
    await findGo({ goVersion: GO_VERSION, log: opts.log, env }),
    ['install', `${MODULE}/cmd/server@${v}`, `${MODULE}/cmd/tools/sql@${v}`],
    { cwd: partial, env: buildEnv, timeoutMs: 60 * 60_000 },
  );
  try {
    if (result.code !== 0) throw new Error(describeFailure(`go install of Temporal server ${v}`, result));
    fs.renameSync(path.join(partial, 'server'), path.join(partial, 'temporal-server'));
    fs.renameSync(path.join(partial, 'sql'), path.join(partial, 'temporal-sql-tool'));
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    // another builder may have finished first: its binaries are the same
    if (!fs.existsSync(server)) {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(partial, dir);
    }
  } finally {
    fs.rmSync(partial, { recursive: true, force: true });
  }
  return { server, sqlTool, buildMs: Date.now() - started };
}

export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** host, port, user and password of a postgres:// URL */
export function postgresTarget(url: string): PostgresTarget {
  const u = new URL(url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}

/** The schemas built into temporal-sql-tool for Temporal's two databases (history, visibility). */
export const TEMPORAL_SCHEMAS = { temporal: 'postgresql/v12/temporal', visibility: 'postgresql/v12/visibility' } as const;

/**
 * The SQL tool's steps for one database, after its connection flags: deploy/temporal-schema.sh runs
 * the same ones for docker-compose.yml (test/compose/compose.test.ts checks that it does).
 */
export function temporalSchemaSteps(schema: string): { args: string[]; tolerate?: RegExp }[] {
  return [
    { args: ['create-database'], tolerate: /already exists/ },
    { args: ['setup-schema', '-v', '0.0'] },
    { args: ['update-schema', '--schema-name', schema] },
  ];
}

/**
 * Creates Temporal's two databases and brings their schemas to the version this server needs, with
 * its SQL tool and the schemas built into it — the steps docker-compose.yml's schema job runs with
 * temporalio/admin-tools. Safe to repeat: an existing database is kept, a current schema untouched.
 */
export async function setupTemporalSchema(opts: {
  sqlTool: string;
  postgres: PostgresTarget;
  database: string;
  visibilityDatabase: string;
  log: DevstackLogger;
}): Promise<void> {
  const { host, port, user, password } = opts.postgres;
  // the password goes in the environment (the tool reads SQL_PASSWORD), never on a command line
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', SQL_PASSWORD: password };
  for (const [database, schema] of [
    [opts.database, TEMPORAL_SCHEMAS.temporal],
    [opts.visibilityDatabase, TEMPORAL_SCHEMAS.visibility],
  ] as const) {
    for (const step of temporalSchemaSteps(schema)) {
      const base = ['--plugin', TEMPORAL_SERVER_SETTINGS.DB, '--ep', host, '-p', String(port), '-u', user, '--db', database];
      const r = await runCommand(opts.sqlTool, [...base, ...step.args], { env, timeoutMs: 5 * 60_000 });
      if (r.code !== 0 && !(step.tolerate && step.tolerate.test(r.stdout + r.stderr))) {
        throw new Error(describeFailure(`temporal-sql-tool ${step.args[0]} (database ${database})`, r));
      }
    }
  }
  opts.log.info(`Temporal schema ready in databases ${opts.database} and ${opts.visibilityDatabase}`);
}

export interface TemporalClusterOptions {
  binaries: TemporalServerBinaries;
  /** a superuser URL of the PostgreSQL server that holds Temporal's databases */
  postgresUrl: string;
  /** default: temporal_<random> and temporal_visibility_<random>, new ones */
  database?: string;
  visibilityDatabase?: string;
  host?: string;
  namespace?: string;
  searchAttributes?: Record<string, SearchAttributeKind>;
  /** default: deploy/temporal-dynamicconfig.yaml, as docker-compose.yml mounts it */
  dynamicConfigFile?: string;
  logFile?: string;
  readyTimeoutMs?: number;
  log: DevstackLogger;
}

export interface TemporalCluster {
  /** the frontend's gRPC address */
  address: string;
  pid: number;
  database: string;
  visibilityDatabase: string;
  exited: ServerProcess['exited'];
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '..');
export const DYNAMIC_CONFIG_FILE = path.join(ROOT, 'deploy', 'temporal-dynamicconfig.yaml');

/**
 * The settings docker-compose.yml gives the `temporal` service beside its addresses (and the
 * compose test checks that it does): persistence connection pools small enough for one PostgreSQL
 * shared with taskd, and Temporal's warnings only.
 */
export const TEMPORAL_SERVER_SETTINGS = {
  DB: 'postgres12',
  SQL_MAX_CONNS: '10',
  SQL_MAX_IDLE_CONNS: '10',
  SQL_VIS_MAX_CONNS: '5',
  SQL_VIS_MAX_IDLE_CONNS: '5',
  LOG_LEVEL: 'warn',
} as const;

/**
 * A free port below 32768: Temporal records its services' membership ports in a smallint column,
 * so the kernel's ephemeral ports (above 32768 on Linux) make it fail at start.
 */
async function freeLowPort(host: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port below 32768 on ${host}`);
}

async function registerNamespace(address: string, namespace: string, deadline: number, signal: AbortSignal) {
  await retryOnFreshConnection(address, deadline, signal, `registering namespace ${namespace} at ${address} failed`, async (connection) => {
    try {
      await connection.withDeadline(Date.now() + 10_000, () =>
        connection.workflowService.registerNamespace({
          namespace,
          // what `temporal operator namespace create` gives by default
          workflowExecutionRetentionPeriod: msToTs('72h'),
        }),
      );
    } catch (err) {
      // 6 = ALREADY_EXISTS: the databases were used before
      if ((err as { code?: number }).code !== 6) throw err;
    }
  });
}

/**
 * Sets up the schema, then runs `temporal-server start` (frontend, history, matching and worker
 * services in one process) on free loopback ports, registers the namespace and the search
 * attributes, and resolves once a client can use them.
 */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const { log } = options;
  const host = options.host ?? '127.0.0.1';
  const namespace = options.namespace ?? 'default';
  const suffix = randomBytes(4).toString('hex');
  const database = options.database ?? `temporal_${suffix}`;
  const visibilityDatabase = options.visibilityDatabase ?? `temporal_visibility_${suffix}`;
  const pg = postgresTarget(options.postgresUrl);
  const started = Date.now();
  await setupTemporalSchema({ sqlTool: options.binaries.sqlTool, postgres: pg, database, visibilityDatabase, log });

  const ports: Record<string, string> = {};
  for (const name of [
    'FRONTEND_GRPC_PORT', 'FRONTEND_HTTP_PORT', 'FRONTEND_MEMBERSHIP_PORT',
    'HISTORY_GRPC_PORT', 'HISTORY_MEMBERSHIP_PORT',
    'MATCHING_GRPC_PORT', 'MATCHING_MEMBERSHIP_PORT',
    'WORKER_GRPC_PORT', 'WORKER_MEMBERSHIP_PORT',
  ]) {
    ports[name] = String(await freeLowPort(host));
  }
  const address = `${host}:${ports.FRONTEND_GRPC_PORT}`;
  log.info(`Starting Temporal server ${TEMPORAL_SERVER_VERSION} on ${address}`, { database, visibilityDatabase, logFile: options.logFile });
  const server = await spawnServerProcess({
    name: 'Temporal server',
    command: options.binaries.server,
    args: ['start'],
    // nothing of the caller's environment: the embedded config template reads many variables
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...TEMPORAL_SERVER_SETTINGS,
      POSTGRES_SEEDS: pg.host,
      DB_PORT: String(pg.port),
      POSTGRES_USER: pg.user,
      POSTGRES_PWD: pg.password,
      DBNAME: database,
      VISIBILITY_DBNAME: visibilityDatabase,
      BIND_ON_IP: host,
      ...ports,
      DYNAMIC_CONFIG_FILE_PATH: options.dynamicConfigFile ?? DYNAMIC_CONFIG_FILE,
    },
    cwd: '/',
    log,
    logFile: options.logFile,
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 20_000,
  });
  try {
    await whileAlive(server, 'Temporal server', async (signal) => {
      const deadline = started + (options.readyTimeoutMs ?? 120_000);
      await waitForPort(host, Number(ports.FRONTEND_GRPC_PORT), deadline - Date.now(), { signal });
      await registerNamespace(address, namespace, deadline, signal);
      await waitUntilUsable(address, namespace, options.searchAttributes ?? {}, deadline, signal, log);
    });
  } catch (err) {
    await server.stop().catch(() => {});
    throw err;
  }
  log.info(`Temporal server ready on ${address} in ${Date.now() - started} ms`);
  return { address, pid: server.pid, database, visibilityDatabase, exited: server.exited, stop: server.stop };
}
