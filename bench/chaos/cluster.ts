// The stack the chaos run breaks, every part in its own process on loopback as in production: a
// private PostgreSQL, a Temporal dev server on a SQLite file (so workflows survive its restart),
// `worker.ts` and `api/server.ts` (TASKD_MIGRATE=1), and a webhook receiver counting deliveries.
// Each part can be killed or restarted on the same port; a part that dies on its own is recorded
// and brought back, as a supervisor would.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../devstack/free-port';
import { startPostgres, type PostgresServer } from '../../devstack/postgres';
import { groupAlive, spawnServerProcess, whileAlive, type DevstackLogger, type ServerProcess } from '../../devstack/processes';
import { ensureTemporalCli } from '../../devstack/temporal-cli';
import { startTemporalDevServer, type TemporalDevServer } from '../../devstack/temporal-server';
import { SEARCH_ATTRIBUTES } from '../../workflows/contracts';
import { waitForHttpOk } from '../lib/stack';

export const ROOT = path.resolve(__dirname, '..', '..');
/** Every child of a run carries this variable, so a leftover process can be found after teardown. */
export const RUN_MARKER = 'TASKD_CHAOS_RUN';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Delivery {
  messageId: string;
  template: string;
  taskId: string;
}

export interface ClusterEvent {
  at: number;
  what: string;
}

export class ChaosCluster {
  readonly workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-chaos-'));
  readonly runId = path.basename(this.workDir);
  readonly events: ClusterEvent[] = [];
  readonly deliveries: Delivery[] = [];
  /** pids of every process group this run started, checked after teardown */
  readonly groups = new Set<number>();
  baseUrl = '';
  databaseUrl = '';
  temporalAddress = '';
  private pg: PostgresServer | null = null;
  private temporal: TemporalDevServer | null = null;
  private api: ServerProcess | null = null;
  private worker: ServerProcess | null = null;
  private webhook: http.Server | null = null;
  private pgPort = 0;
  private temporalPort = 0;
  private apiPort = 0;
  private workerHealthPort = 0;
  private workerUpAt = 0;
  private cliPath = '';
  private stopping = false;
  private readonly started = Date.now();

  constructor(private readonly log: DevstackLogger) {
    // the private PostgreSQL runs as the postgres user when we are root: it must be able to traverse
    fs.chmodSync(this.workDir, 0o711);
  }

  note(what: string): void {
    this.events.push({ at: Date.now() - this.started, what });
    this.log.info(`chaos: ${what}`);
  }

  async start(): Promise<void> {
    [this.pgPort, this.temporalPort, this.apiPort, this.workerHealthPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    this.cliPath = await ensureTemporalCli({ toolsDir: path.join(ROOT, '.tools'), log: this.log });
    await Promise.all([this.startPostgres(), this.startTemporal(), this.startWebhook()]);
    this.baseUrl = `http://127.0.0.1:${this.apiPort}`;
    // the API migrates the fresh database before the worker touches it
    await this.startApi();
    await this.startWorker();
  }

  private async startPostgres(): Promise<void> {
    this.pg = await startPostgres({
      dataDir: path.join(this.workDir, 'pg'),
      port: this.pgPort,
      fsync: false,
      logFile: path.join(this.workDir, 'postgres.log'),
      log: this.log,
    });
    this.groups.add(this.pg.pid);
    this.databaseUrl = this.pg.url;
  }

  private async startTemporal(): Promise<void> {
    this.temporal = await startTemporalDevServer({
      cliPath: this.cliPath,
      dbFile: path.join(this.workDir, 'temporal.db'),
      port: this.temporalPort,
      uiPort: null,
      searchAttributes: SEARCH_ATTRIBUTES,
      logFile: path.join(this.workDir, 'temporal.log'),
      log: this.log,
    });
    this.groups.add(this.temporal.pid);
    this.temporalAddress = this.temporal.address;
  }

  private async startWebhook(): Promise<void> {
    this.webhook = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        try {
          const json = JSON.parse(body) as { template?: string; labels?: { task_id?: string } };
          this.deliveries.push({
            messageId: String(req.headers['x-taskd-message-id'] ?? ''),
            template: json.template ?? '',
            taskId: json.labels?.task_id ?? '',
          });
        } catch {
          this.deliveries.push({ messageId: 'unparsable', template: '', taskId: '' });
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.webhook!.listen(0, '127.0.0.1', resolve));
  }

  private env(extra: Record<string, string>): NodeJS.ProcessEnv {
    const port = (this.webhook!.address() as AddressInfo).port;
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      [RUN_MARKER]: this.runId,
      DATABASE_URL: this.databaseUrl,
      DATABASE_POOL_MAX: '5',
      TEMPORAL_ADDRESS: this.temporalAddress,
      TEMPORAL_TASK_QUEUE: 'chaos',
      TASKD_DATA_DIR: path.join(this.workDir, 'data'),
      TASKD_HOST_ID: 'chaos-host',
      HOST: '127.0.0.1',
      PORT: String(this.apiPort),
      LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'warn',
      NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
      NOTIFY_WEBHOOK_SECRET: 'chaos',
      ...extra,
    };
  }

  private async spawnNode(name: 'api' | 'worker', script: string, ready: (signal: AbortSignal) => Promise<void>): Promise<ServerProcess> {
    const child = await spawnServerProcess({
      name,
      command: process.execPath,
      args: ['--import', 'tsx', path.join(ROOT, script)],
      env: this.env(name === 'api' ? { TASKD_MIGRATE: '1' } : { WORKER_HEALTH_PORT: String(this.workerHealthPort) }),
      cwd: ROOT,
      log: this.log,
      logFile: path.join(this.workDir, `${name}.log`),
      stopSignal: 'SIGTERM',
      stopTimeoutMs: 15_000,
    });
    this.groups.add(child.pid);
    try {
      await whileAlive(child, name, ready);
    } catch (err) {
      await child.stop().catch(() => {});
      throw err;
    }
    // a child that dies without being told to is a finding: note it and bring it back
    void child.exited.then(({ code, signal }) => {
      if (this.stopping || (name === 'worker' ? this.worker : this.api) !== child) return;
      this.note(`UNPLANNED: ${name} exited (${signal ?? `code ${code}`}); restarting`);
      void (name === 'worker' ? this.restartWorker() : this.startApi()).catch((err) => this.note(`${name} restart failed: ${(err as Error).message}`));
    });
    return child;
  }

  private async startApi(): Promise<void> {
    this.api = await this.spawnNode('api', 'api/server.ts', (signal) => waitForHttpOk(`${this.baseUrl}/readyz`, signal, 90_000));
  }

  private async startWorker(): Promise<void> {
    this.worker = await this.spawnNode('worker', 'worker.ts', (signal) => waitForHttpOk(`http://127.0.0.1:${this.workerHealthPort}/healthz`, signal, 90_000));
    this.workerUpAt = Date.now();
  }

  /**
   * SIGKILL to the worker's whole process group, then a fresh worker. A worker gets `minUptimeMs`
   * of life first: killing one that has not polled yet would only lengthen the previous outage.
   */
  async killWorker(minUptimeMs = 5_000): Promise<void> {
    await sleep(Math.max(0, this.workerUpAt + minUptimeMs - Date.now()));
    const victim = this.worker!;
    this.worker = null;
    this.note(`SIGKILL worker (pid ${victim.pid})`);
    process.kill(-victim.pid, 'SIGKILL');
    await victim.exited;
    await this.restartWorker();
  }

  /** Starts a worker, retrying like a supervisor: worker.ts exits at once when Temporal is down. */
  private async restartWorker(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startWorker();
        this.note(attempt === 1 ? 'worker restarted' : `worker restarted (attempt ${attempt})`);
        return;
      } catch (err) {
        if (attempt >= 20) throw err;
        const lines = (err as Error).message.split('\n');
        const cause = lines.find((l) => /^\w*Error:/.test(l)) ?? lines[0]!;
        this.note(`worker failed to start (${cause.slice(0, 160)}); retrying`);
        await sleep(1_000);
      }
    }
  }

  /** Stops Temporal for `downMs`, then starts it again on the same port and SQLite file. */
  async restartTemporal(downMs: number): Promise<{ down: number; up: number }> {
    const down = Date.now();
    this.note('Temporal stopping');
    await this.temporal!.stop();
    await sleep(downMs);
    await this.startTemporal();
    this.note('Temporal back');
    return { down, up: Date.now() };
  }

  /** Stops PostgreSQL (fast shutdown) for `downMs`, then starts it again on the same port and data. */
  async restartPostgres(downMs: number): Promise<{ down: number; up: number }> {
    const down = Date.now();
    this.note('PostgreSQL stopping');
    await this.pg!.stop();
    await sleep(downMs);
    await this.startPostgres();
    this.note('PostgreSQL back');
    return { down, up: Date.now() };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const part of [this.worker, this.api]) await part?.stop().catch(() => {});
    await this.temporal?.stop().catch(() => {});
    await this.pg?.stop().catch(() => {});
    await new Promise<void>((resolve) => (this.webhook ? this.webhook.close(() => resolve()) : resolve()));
  }

  /** Process groups of this run still alive, and any process still carrying the run marker. */
  leftovers(): string[] {
    const found = [...this.groups].filter(groupAlive).map((pid) => `process group ${pid}`);
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
        if (environ.includes(`${RUN_MARKER}=${this.runId}`)) {
          found.push(`pid ${pid}: ${fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim()}`);
        }
      } catch {
        // gone meanwhile, or not ours to read
      }
    }
    return found;
  }

  removeWorkDir(): void {
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}
