// `npm start` / `taskd start`: the whole system on one machine — a private PostgreSQL and a Temporal dev
// server in the data folder (unless DATABASE_URL / TEMPORAL_ADDRESS point elsewhere), migrations, then
// the worker and the API as child processes. Every child is supervised (devstack/supervisor.ts): one
// that dies is reported and restarted, or the launcher stops and exits non-zero naming it. Ctrl-C
// stops everything it started; a second start reuses the data.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../lib/config';
import { createLogger } from '../lib/logger';
import { createProvisioners } from '../provisioner';
import { migrate, openOrm } from '../db/orm';
import { startPostgres } from '../devstack/postgres';
import { ensureTemporalCli } from '../devstack/temporal-cli';
import { startTemporalDevServer } from '../devstack/temporal-server';
import { freePort } from '../devstack/free-port';
import { startNodeService } from '../devstack/node-service';
import { Supervisor, type Service } from '../devstack/supervisor';
import { ensureBubblewrap } from '../devstack/bubblewrap';
import { SEARCH_ATTRIBUTES } from '../workflows/contracts';

const ROOT = path.resolve(__dirname, '..');

function step(message: string) {
  process.stdout.write(`  • ${message}\n`);
}

async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export interface DevStack {
  stop(): Promise<void>;
}

/**
 * The data folder holds every prompt (temporal.db, the logs), PostgreSQL's files and its password:
 * readable by its owner only. Others may traverse it (0711: the private PostgreSQL runs as the postgres
 * user when taskd runs as root, and must reach its own folder inside) but not list or read it. The
 * logs folder is the owner's alone. The Temporal server creates temporal.db as others can read it;
 * it is tightened to 0600 as soon as the server is up (and SQLite gives the -wal and -shm files it
 * makes later the database file's mode). Files an earlier version left readable are tightened too.
 */
export function confineDataFolder(dataDir: string, logs: string): void {
  fs.mkdirSync(logs, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o711);
  fs.chmodSync(logs, 0o700);
  for (const name of fs.readdirSync(dataDir)) {
    const file = path.join(dataDir, name);
    const stat = fs.lstatSync(file);
    if (stat.isFile() && (stat.mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  }
  for (const name of fs.readdirSync(logs)) fs.chmodSync(path.join(logs, name), 0o600);
}

/**
 * Starts the stack. `giveUp` is called (once) when a child cannot be kept running; the caller
 * then stops the stack and exits non-zero naming it.
 */
export async function startDevStack(env: NodeJS.ProcessEnv, giveUp: (service: string, why: string) => void): Promise<DevStack> {
  let config: Config = loadConfig(env);
  const logs = path.join(config.dataDir, 'logs');
  const logFile = (name: string) => path.join(logs, `${name}.log`);
  const log = createLogger(config.logLevel, 'taskd', logFile('taskd'));
  const started = Date.now();
  const supervisor = new Supervisor({ say: (line) => process.stderr.write(`${line}\n`), giveUp });
  let stopWorkspaces: (() => Promise<void>) | null = null;
  const stopAll = async () => {
    // first, while the API still takes their log snapshots; the next start brings them back
    await stopWorkspaces?.().catch((err) => process.stderr.write(`  ! stopping workspaces: ${(err as Error).message}\n`));
    await supervisor.stopAll((name, err) => process.stderr.write(`  ! stopping ${name}: ${err.message}\n`));
  };
  try {
    process.stdout.write(`taskd: starting (data in ${config.dataDir})\n`);
    confineDataFolder(config.dataDir, logs);
    const overrides: Record<string, string> = {};

    const pgReady = (async () => {
      if (config.database.url) return step('PostgreSQL: using DATABASE_URL');
      step('PostgreSQL: starting a private cluster in the data folder…');
      const options = { dataDir: path.join(config.dataDir, 'postgres'), logFile: logFile('postgres'), log };
      const pg = await startPostgres(options);
      const service: Service = {
        name: 'PostgreSQL',
        logFile: options.logFile,
        start: () => startPostgres({ ...options, port: pg.port, create: false }),
      };
      supervisor.watch(service, pg);
      overrides.DATABASE_URL = pg.url;
      step(`PostgreSQL: ready on 127.0.0.1:${pg.port}`);
    })();

    let uiUrl: string | null = null;
    const temporalReady = (async () => {
      if (config.temporal.address) return step(`Temporal: using TEMPORAL_ADDRESS=${config.temporal.address}`);
      const cliPath = await ensureTemporalCli({ toolsDir: path.join(ROOT, '.tools'), env, log, say: step });
      step('Temporal: starting the dev server (history kept in the data folder)…');
      const options = {
        cliPath,
        dbFile: path.join(config.dataDir, 'temporal.db'),
        port: (await portIsFree(7233)) ? 7233 : await freePort(),
        uiPort: (await portIsFree(config.temporal.uiPort)) ? config.temporal.uiPort : await freePort(),
        namespace: config.temporal.namespace,
        searchAttributes: SEARCH_ATTRIBUTES,
        logFile: logFile('temporal'),
        log,
      };
      const server = await startTemporalDevServer(options);
      confineDataFolder(config.dataDir, logs);
      supervisor.watch({ name: 'Temporal', logFile: options.logFile, start: () => startTemporalDevServer(options) }, server);
      overrides.TEMPORAL_ADDRESS = server.address;
      uiUrl = server.uiUrl;
      step(`Temporal: ready on ${server.address}`);
    })();

    const sandboxReady = ensureBubblewrap({ log }).then((state) => {
      if (state === 'installed') step('Workspace sandbox: installed bubblewrap');
      if (state !== 'missing') return;
      process.stderr.write(
        '  ! Workspace sandbox: bubblewrap is missing and cannot be installed here (it needs root and apt-get).\n' +
          '    Process workspaces will not start until it is installed (apt-get install bubblewrap),\n' +
          '    unless their template sets "sandbox": "none" to run them unsandboxed.\n',
      );
    });

    await Promise.all([pgReady, temporalReady, sandboxReady]);
    config = loadConfig({ ...env, ...overrides });

    step('Database: applying migrations…');
    const orm = await openOrm({ url: config.database.url!, poolMax: 1 });
    try {
      const applied = await migrate(orm);
      step(applied.length > 0 ? `Database: applied ${applied.length} migration(s)` : 'Database: schema up to date');
    } finally {
      await orm.close();
    }

    const host = config.http.host;
    const childEnv = { ...env, ...overrides };
    step('Worker: bundling workflows and polling…');
    const healthPort = config.worker.healthPort ?? (await freePort(host));
    const worker: Service = {
      name: 'worker',
      logFile: logFile('worker'),
      start: () =>
        startNodeService({
          name: 'worker',
          entry: 'worker.ts',
          env: { ...childEnv, WORKER_HEALTH_PORT: String(healthPort) },
          logFile: logFile('worker'),
          readyUrl: `http://${host}:${healthPort}/`,
          log,
        }),
    };
    supervisor.watch(worker, await worker.start());

    const apiUrl = `http://${host}:${config.http.port}`;
    step('API: starting…');
    const api: Service = {
      name: 'API',
      logFile: logFile('api'),
      start: () => startNodeService({ name: 'API', entry: 'api/server.ts', env: childEnv, logFile: logFile('api'), readyUrl: `${apiUrl}/healthz`, log }),
    };
    supervisor.watch(api, await api.start());
    stopWorkspaces = () => createProvisioners({ config, log }).stopAllWorkspaces();

    process.stdout.write(
      [
        '',
        `taskd is ready (${((Date.now() - started) / 1000).toFixed(1)} s)`,
        `  API          ${apiUrl}/api/v2   (health: ${apiUrl}/readyz)`,
        `  Temporal UI  ${uiUrl ?? '(external Temporal: see your own UI)'}`,
        `  Data         ${config.dataDir}`,
        `  Logs         ${logs}`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    return { stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export function runStartCommand(): void {
  let stopping = false;
  let stack: DevStack | null = null;
  let failed: string | null = null;
  const stop = (why: string, code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\ntaskd: ${why}, stopping…\n`);
    (stack?.stop() ?? Promise.resolve()).then(
      () => {
        process.stdout.write('taskd: stopped\n');
        process.exit(code);
      },
      () => process.exit(1),
    );
  };
  const giveUp = (service: string, why: string) => {
    failed = service;
    process.stderr.write(`taskd: ${why}\n`);
    if (stack) stop(`${service} could not be kept running`, 1);
  };
  startDevStack(process.env, giveUp)
    .then((started) => {
      stack = started;
      if (failed) return stop(`${failed} could not be kept running`, 1);
      process.on('SIGINT', () => stop('SIGINT received', 0));
      process.on('SIGTERM', () => stop('SIGTERM received', 0));
      // `npm start` exits on SIGTERM without passing it on; losing our parent means the same thing.
      // The timer also keeps this process alive: everything else it waits on is a detached child.
      const parent = process.ppid;
      setInterval(() => {
        if (process.ppid !== parent) stop('parent exit', 0);
      }, 1000);
    })
    .catch((err) => {
      if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
      else process.stderr.write(`taskd: failed to start: ${(err as Error).message}\n`);
      process.exit(1);
    });
}
