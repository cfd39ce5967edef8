// `npm start` / `taskd start`: the whole system on one machine — a private PostgreSQL and a Temporal dev
// server in the data folder (unless DATABASE_URL / TEMPORAL_ADDRESS point elsewhere), migrations, the
// worker and the API in this process. Ctrl-C stops everything it started; a second start reuses the data.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../lib/config';
import { createLogger } from '../lib/logger';
import { startApiServer } from '../api/server';
import { createTaskdWorker } from '../worker/taskd-worker';
import { stopAllWorkspaces } from '../provisioner/process';
import { migrate, openOrm } from '../db/orm';
import { startPostgres } from '../devstack/postgres';
import { ensureTemporalCli } from '../devstack/temporal-cli';
import { startTemporalDevServer } from '../devstack/temporal-server';
import { freePort } from '../devstack/free-port';
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

export async function startDevStack(env: NodeJS.ProcessEnv = process.env): Promise<{ stop(): Promise<void> }> {
  let config: Config = loadConfig(env);
  const log = createLogger(config.logLevel, 'taskd', path.join(config.dataDir, 'logs', 'taskd.log'));
  const started = Date.now();
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) {
      await s.stop().catch((err) => process.stderr.write(`  ! stopping ${s.name}: ${(err as Error).message}\n`));
    }
    stops.length = 0;
  };
  try {
    process.stdout.write(`taskd: starting (data in ${config.dataDir})\n`);
    fs.mkdirSync(path.join(config.dataDir, 'logs'), { recursive: true });
    const overrides: Record<string, string> = {};

    const pgReady = (async () => {
      if (config.database.url) return step('PostgreSQL: using DATABASE_URL');
      step('PostgreSQL: starting a private cluster in the data folder…');
      const pg = await startPostgres({
        dataDir: path.join(config.dataDir, 'postgres'),
        logFile: path.join(config.dataDir, 'logs', 'postgres.log'),
        log,
      });
      stops.push({ name: 'PostgreSQL', stop: () => pg.stop() });
      overrides.DATABASE_URL = pg.url;
      step(`PostgreSQL: ready on 127.0.0.1:${pg.port}`);
    })();

    let uiUrl: string | null = null;
    const temporalReady = (async () => {
      if (config.temporal.address) return step(`Temporal: using TEMPORAL_ADDRESS=${config.temporal.address}`);
      const cliPath = await ensureTemporalCli({ toolsDir: path.join(ROOT, '.tools'), env, log });
      step('Temporal: starting the dev server (history kept in the data folder)…');
      const port = (await portIsFree(7233)) ? 7233 : await freePort();
      const uiPort = (await portIsFree(config.temporal.uiPort)) ? config.temporal.uiPort : await freePort();
      const server = await startTemporalDevServer({
        cliPath,
        dbFile: path.join(config.dataDir, 'temporal.db'),
        port,
        uiPort,
        namespace: config.temporal.namespace,
        searchAttributes: SEARCH_ATTRIBUTES,
        logFile: path.join(config.dataDir, 'logs', 'temporal.log'),
        log,
      });
      stops.push({ name: 'Temporal', stop: () => server.stop() });
      overrides.TEMPORAL_ADDRESS = server.address;
      uiUrl = server.uiUrl;
      step(`Temporal: ready on ${server.address}`);
    })();

    await Promise.all([pgReady, temporalReady]);
    config = loadConfig({ ...env, ...overrides });

    step('Database: applying migrations…');
    const orm = await openOrm({ url: config.database.url!, poolMax: config.database.poolMax });
    const applied = await migrate(orm);
    step(applied.length > 0 ? `Database: applied ${applied.length} migration(s)` : 'Database: schema up to date');

    step('Worker: bundling workflows and polling…');
    const { worker, connection } = await createTaskdWorker({ config, orm, log });
    const running = worker.run();
    stops.push({
      name: 'worker',
      stop: async () => {
        // the SDK also reacts to SIGINT/SIGTERM on its own, so it may already be draining
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => {});
        await connection.close();
        await orm.close();
      },
    });

    const api = await startApiServer(config, log);
    stops.push({ name: 'API', stop: () => api.close() });
    // stopped first, while the API still takes their log snapshots; the next start brings them back
    stops.push({ name: 'workspaces', stop: () => stopAllWorkspaces({ dataDir: config.dataDir, log, stopGraceMs: config.worker.workspaceStopGraceMs }) });

    const apiUrl = `http://${config.http.host}:${config.http.port}`;
    process.stdout.write(
      [
        '',
        `taskd is ready (${((Date.now() - started) / 1000).toFixed(1)} s)`,
        `  API          ${apiUrl}/api/v2   (health: ${apiUrl}/readyz)`,
        `  Temporal UI  ${uiUrl ?? '(external Temporal: see your own UI)'}`,
        `  Data         ${config.dataDir}`,
        `  Logs         ${path.join(config.dataDir, 'logs')}`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    running.catch(async (err) => {
      process.stderr.write(`worker stopped unexpectedly: ${(err as Error).message}\n`);
      await stopAll();
      process.exit(1);
    });
    return { stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export function runStartCommand(): void {
  let stopping = false;
  startDevStack()
    .then((stack) => {
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(`\ntaskd: ${signal} received, stopping…\n`);
        stack.stop().then(
          () => {
            process.stdout.write('taskd: stopped\n');
            process.exit(0);
          },
          () => process.exit(1),
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      // `npm start` exits on SIGTERM without passing it on; losing our parent means the same thing
      const parent = process.ppid;
      setInterval(() => {
        if (process.ppid !== parent) stop('parent exit');
      }, 1000).unref();
    })
    .catch((err) => {
      if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
      else process.stderr.write(`taskd: failed to start: ${(err as Error).message}\n`);
      process.exit(1);
    });
}
