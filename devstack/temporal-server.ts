import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { assertPortFree, freePort, waitForPort } from './free-port';
import { spawnServerProcess, startRetryingTakenPorts, whileAlive, type DevstackLogger, type ServerProcess } from './processes';

export type SearchAttributeKind = 'Keyword' | 'Text' | 'Int' | 'Datetime' | 'Bool' | 'Double' | 'KeywordList';

// Values of temporal.api.enums.v1.IndexedValueType.
const INDEXED_VALUE_TYPE: Record<SearchAttributeKind, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

export interface TemporalDevServerOptions {
  cliPath: string;
  /** Persistent SQLite file; undefined keeps everything in memory. */
  dbFile?: string;
  host?: string;
  /** 0 or undefined picks a free port. */
  port?: number;
  /** null disables the Web UI; 0 or undefined picks a free port. */
  uiPort?: number | null;
  namespace?: string;
  searchAttributes?: Record<string, SearchAttributeKind>;
  logFile?: string;
  /** Total budget for the server to become usable. */
  readyTimeoutMs?: number;
  /** the Prometheus endpoint's port; undefined lets the server pick one nobody reads */
  metricsPort?: number;
  log: DevstackLogger;
}

export interface TemporalDevServer {
  address: string;
  uiUrl: string | null;
  pid: number;
  /** Resolves when the server exits, for whatever reason; never rejects. */
  exited: ServerProcess['exited'];
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The dev server's SQLite file: write-ahead log, every commit synced (see startTemporalDevServer). */
const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=full'];

/** Not retryable: the database holds a different type than requested. */
export class SearchAttributeConflictError extends Error {
  override name = 'SearchAttributeConflictError';
}

/**
 * `start-dev` registers --search-attribute only when it creates the SQLite
 * file: on a reused file, new names are silently skipped and changed types are
 * silently ignored. So the server is asked what it has, missing ones are added,
 * and a type conflict is an error (Temporal cannot change a type in place).
 */
async function reconcileSearchAttributes(
  connection: Connection,
  namespace: string,
  wanted: Record<string, SearchAttributeKind>,
  log: DevstackLogger,
): Promise<boolean> {
  if (Object.keys(wanted).length === 0) return false;
  const existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  const missing: Record<string, number> = {};
  for (const [name, kind] of Object.entries(wanted)) {
    const current = existing[name];
    if (current === undefined) missing[name] = INDEXED_VALUE_TYPE[kind];
    else if (current !== INDEXED_VALUE_TYPE[kind]) {
      const currentKind = Object.entries(INDEXED_VALUE_TYPE).find(([, v]) => v === current)?.[0] ?? String(current);
      throw new SearchAttributeConflictError(
        `Search attribute ${name} is registered as ${currentKind} in namespace ${namespace} but taskd needs ${kind}; ` +
          'delete the Temporal database (the dev server\'s file) or rename the attribute to change it',
      );
    }
  }
  if (Object.keys(missing).length === 0) return false;
  log.info(`Registering search attributes ${Object.keys(missing).join(', ')} in namespace ${namespace}`);
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  return true;
}

/**
 * Runs `use` on a fresh connection to `address`, again every 200 ms while it fails, until it
 * succeeds or `deadline` passes (then an error starting with `failure`). A SearchAttributeConflictError
 * is final: waiting does not change it.
 */
export async function retryOnFreshConnection(
  address: string,
  deadline: number,
  signal: AbortSignal,
  failure: string,
  use: (connection: Connection) => Promise<void>,
): Promise<void> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await use(connection);
      return;
    } catch (err) {
      if (err instanceof SearchAttributeConflictError) throw err;
      lastError = err;
      await sleep(200);
    } finally {
      await connection?.close();
    }
  }
  throw new Error(`${failure}: ${(lastError as Error)?.message}`);
}

/**
 * Resolves once `namespace` serves every attribute in `searchAttributes`, adding those it lacks.
 * `registryRefreshMs`: after adding one, how long every service of the server may take to reload
 * its namespace registry (each has its own); the frontend seeing the attribute does not prove the
 * history service does, so the wait lasts at least that long after the addition.
 */
export async function waitUntilUsable(
  address: string,
  namespace: string,
  searchAttributes: Record<string, SearchAttributeKind>,
  deadline: number,
  signal: AbortSignal,
  log: DevstackLogger,
  registryRefreshMs = 0,
): Promise<void> {
  let addedAt: number | null = null;
  await retryOnFreshConnection(address, deadline, signal, `Temporal at ${address} did not become usable in time`, async (connection) => {
    // Fresh servers accept gRPC before the namespace registry has loaded.
    await connection.withDeadline(Date.now() + 5_000, () => connection.workflowService.describeNamespace({ namespace }));
    if (await connection.withDeadline(Date.now() + 10_000, () => reconcileSearchAttributes(connection, namespace, searchAttributes, log))) {
      addedAt ??= Date.now();
    }
    // A server with SQL visibility serves new attributes only once its namespace registry has
    // reloaded (every 2 to 10 s, by version): until then a workflow naming one is refused ("no mapping
    // defined for search attribute"). A query naming them all is refused the same way.
    const names = Object.keys(searchAttributes);
    if (names.length > 0) {
      await connection.withDeadline(Date.now() + 5_000, () =>
        connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1, query: names.map((n) => `${n} IS NULL`).join(' AND ') }),
      );
    }
  });
  const rest = addedAt === null ? 0 : addedAt + registryRefreshMs - Date.now();
  if (rest > 0) {
    log.info(`Waiting ${Math.ceil(rest / 1000)} s for every Temporal service to load the new search attributes`);
    await sleep(rest);
  }
}

/**
 * How often the dev server's services reload their namespace registries, plus a second: what an
 * attribute added at start may take to reach them all. Server 1.32 (in CLI 1.9.1) reloads every 2 s,
 * older servers every 10 s; the longer is waited, and only when an attribute was added to a reused file.
 */
const DEV_REGISTRY_REFRESH_MS = 11_000;

/**
 * Runs `temporal server start-dev` as a private server and resolves once the
 * namespace is usable and every requested search attribute exists.
 */
export function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  // the CLI picks its internal services' ports itself: a start can lose one of them to a race
  return startRetryingTakenPorts('Temporal dev server', options.log, () => startDevServerOnce(options));
}

async function startDevServerOnce(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const { log, cliPath } = options;
  const host = options.host ?? '127.0.0.1';
  const namespace = options.namespace ?? 'default';
  const searchAttributes = options.searchAttributes ?? {};
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const port = options.port ? options.port : await freePort(host);
  const uiPort = options.uiPort === null ? null : options.uiPort ? options.uiPort : await freePort(host);
  if (options.port) await assertPortFree(host, port, 'Temporal gRPC port');
  if (options.uiPort) await assertPortFree(host, options.uiPort, 'Temporal UI port');

  const args = ['server', 'start-dev', '--ip', host, '--port', String(port), '--log-level', 'warn'];
  if (options.dbFile !== undefined) {
    await fs.promises.mkdir(path.dirname(path.resolve(options.dbFile)), { recursive: true });
    args.push('--db-filename', options.dbFile);
    // The file's default rollback journal costs two or three fsyncs a commit, and every history write
    // is a commit on the server's one SQLite connection: the dev server's throughput bound. WAL with
    // synchronous=FULL is as durable (each commit is on disk before it is acknowledged, across a
    // crash or a power loss) for one fsync a commit. A file keeps the mode once set.
    for (const pragma of SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  }
  // Without an explicit port the UI would take port+1000, which nobody checked is free.
  args.push(...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (namespace !== 'default') args.push('--namespace', namespace);
  if (options.metricsPort !== undefined) args.push('--metrics-port', String(options.metricsPort));
  for (const [name, kind] of Object.entries(searchAttributes)) {
    if (!(kind in INDEXED_VALUE_TYPE)) throw new Error(`Unknown search attribute type ${kind} for ${name}`);
    args.push('--search-attribute', `${name}=${kind}`);
  }
  // Update-with-Start (taskd's create path) goes through ExecuteMultiOperation.
  args.push('--dynamic-config-value', 'frontend.enableExecuteMultiOperation=true');
  args.push('--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true');
  // start-dev turns its search-attribute caches off unless told otherwise, so that attributes added
  // at run time are seen at once: then every attribute a workflow sets or upserts, and every
  // visibility write, costs two reads of the server's one SQLite connection under a global lock
  // (about 60 a task lifecycle). taskd's attributes exist before anything uses them (created with
  // the file, or added by reconcileSearchAttributes, which waits out the caches' refresh), so the
  // caches stay on, as on Temporal's own server.
  args.push('--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false');

  const address = `${host}:${port}`;
  const started = Date.now();
  log.info(`Starting Temporal dev server on ${address}`, {
    db: options.dbFile ?? 'in-memory',
    ui: uiPort,
    logFile: options.logFile,
  });
  const server = await spawnServerProcess({
    name: 'Temporal dev server',
    command: cliPath,
    args,
    log,
    logFile: options.logFile,
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 10_000,
  });

  try {
    await whileAlive(server, 'Temporal dev server', async (signal) => {
      const deadline = started + readyTimeoutMs;
      await waitForPort(host, port, readyTimeoutMs, { signal });
      await waitUntilUsable(address, namespace, searchAttributes, deadline, signal, log, DEV_REGISTRY_REFRESH_MS);
    });
  } catch (err) {
    await server.stop().catch(() => {});
    throw err;
  }

  const uiUrl = uiPort === null ? null : `http://${host}:${uiPort}`;
  log.info(`Temporal dev server ready on ${address} in ${Date.now() - started} ms${uiUrl ? `, UI ${uiUrl}` : ''}`);
  return { address, uiUrl, pid: server.pid, exited: server.exited, stop: server.stop };
}
