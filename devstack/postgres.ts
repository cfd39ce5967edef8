import fs from 'node:fs';
import path from 'node:path';
import { assertPortFree, freePort } from './free-port';
import {
  PG_DATABASE,
  PG_USER,
  clearStaleLock,
  findPgBinDir,
  initCluster,
  readPassword,
  resolveRunAs,
} from './postgres-cluster';
import {
  describeFailure,
  runCommand,
  spawnServerProcess,
  startRetryingTakenPorts,
  whileAlive,
  type DevstackLogger,
  type ServerProcess,
} from './processes';

export { findPostgresProcesses, PG_DATABASE, PG_USER } from './postgres-cluster';

export interface PostgresOptions {
  /** Cluster folder; created with initdb when it holds no PG_VERSION, reused otherwise. */
  dataDir: string;
  /**
   * false: a missing cluster is an error instead of being created. A restart must not replace a
   * cluster that vanished with an empty one (the data is gone, and so is the password others use).
   */
  create?: boolean;
  host?: string;
  /** 0 or undefined picks a free port. */
  port?: number;
  /** false is for throwaway test clusters only: a crash can corrupt the data. */
  fsync?: boolean;
  /** more server settings (`-c name=value`), e.g. shared_preload_libraries for a benchmark */
  settings?: Record<string, string>;
  logFile?: string;
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  log: DevstackLogger;
}

export interface PostgresServer {
  /** postgres://taskd:<password>@host:port/taskd */
  url: string;
  port: number;
  pid: number;
  /** Resolves when the server exits, for whatever reason; never rejects. */
  exited: ServerProcess['exited'];
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitUntilAccepting(binDir: string, host: string, port: number, deadline: number, signal: AbortSignal) {
  let last = '';
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    // Exit 0 = accepting; 1 = starting up or recovering; 2 = nothing listening yet.
    const result = await runCommand(path.join(binDir, 'pg_isready'), ['-h', host, '-p', String(port), '-t', '2'], {
      timeoutMs: 5_000,
    });
    if (result.code === 0) return;
    last = result.stdout.trim();
    await sleep(50);
  }
  throw new Error(`PostgreSQL on ${host}:${port} not ready in time (${last})`);
}

async function ensureDatabase(binDir: string, host: string, port: number, password: string, env: NodeJS.ProcessEnv) {
  const psql = (sql: string) =>
    runCommand(
      path.join(binDir, 'psql'),
      ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', String(port), '-U', PG_USER, '-d', 'postgres', '-c', sql],
      { env: { ...env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' }, timeoutMs: 30_000 },
    );
  const check = await psql(`SELECT 1 FROM pg_database WHERE datname = '${PG_DATABASE}'`);
  if (check.code !== 0) throw new Error(describeFailure('psql (checking for the taskd database)', check));
  if (check.stdout.trim() === '1') return false;
  const create = await psql(`CREATE DATABASE ${PG_DATABASE}`);
  if (create.code !== 0) throw new Error(describeFailure(`CREATE DATABASE ${PG_DATABASE}`, create));
  return true;
}

/**
 * Runs a private PostgreSQL cluster for taskd. Authentication is scram with a
 * random password generated at initdb (stored in the data directory), rather
 * than trust, so other local users cannot become superuser over loopback TCP.
 * Unix sockets are disabled: clients use TCP only, which also sidesteps the
 * 107-byte socket path limit and clashes over /var/run/postgresql.
 */
export function startPostgres(options: PostgresOptions): Promise<PostgresServer> {
  return startRetryingTakenPorts('PostgreSQL', options.log, () => startPostgresOnce(options));
}

async function startPostgresOnce(options: PostgresOptions): Promise<PostgresServer> {
  const { log } = options;
  const env = options.env ?? process.env;
  const host = options.host ?? '127.0.0.1';
  const fsync = options.fsync ?? true;
  const dataDir = path.resolve(options.dataDir);
  const started = Date.now();

  const [binDir, runAs] = await Promise.all([findPgBinDir(env), resolveRunAs()]);
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    if (options.create === false) throw new Error(`${dataDir} holds no PostgreSQL cluster any more (was it removed?)`);
    await initCluster({ dataDir, binDir, runAs, fsync, log });
  } else if (runAs.uid !== undefined && fs.statSync(dataDir).uid !== runAs.uid) {
    throw new Error(`${dataDir} is not owned by the postgres user (uid ${runAs.uid}); chown -R it or use another dataDir`);
  }
  const password = readPassword(dataDir);
  clearStaleLock(dataDir, log);

  const port = options.port ? options.port : await freePort(host);
  if (options.port) await assertPortFree(host, port, 'PostgreSQL port');
  const args = ['-D', dataDir, '-c', `listen_addresses=${host}`, '-c', `port=${port}`];
  args.push('-c', 'unix_socket_directories=', '-c', `fsync=${fsync ? 'on' : 'off'}`);
  for (const [name, value] of Object.entries(options.settings ?? {})) args.push('-c', `${name}=${value}`);
  log.info(`Starting PostgreSQL on ${host}:${port}`, { dataDir, fsync, logFile: options.logFile });
  const server = await spawnServerProcess({
    name: 'PostgreSQL',
    command: path.join(binDir, 'postgres'),
    args,
    log,
    logFile: options.logFile,
    env,
    cwd: '/',
    ...runAs,
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    stopSignal: 'SIGINT',
    stopTimeoutMs: 30_000,
  });

  try {
    await whileAlive(server, 'PostgreSQL', async (signal) => {
      await waitUntilAccepting(binDir, host, port, started + (options.readyTimeoutMs ?? 30_000), signal);
      if (await ensureDatabase(binDir, host, port, password, env)) log.info(`Created database ${PG_DATABASE}`);
    });
  } catch (err) {
    await server.stop().catch(() => {});
    throw err;
  }

  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `postgres://${PG_USER}:${encodeURIComponent(password)}@${urlHost}:${port}/${PG_DATABASE}`;
  log.info(`PostgreSQL ready on ${host}:${port} in ${Date.now() - started} ms`);
  return { url, port, pid: server.pid, exited: server.exited, stop: server.stop };
}
