// Keeps the launcher's children running. When one exits on its own, the console gets one line
// saying which, how it ended and what its log last said; it is started again, a bounded number of
// times in a window, and when that runs out (or a restart cannot succeed) the launcher is told to
// stop everything and exit non-zero naming it, instead of staying up half-dead.
import { readFileTail } from './processes';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Running {
  /** Resolves when the process exits, for whatever reason; never rejects. */
  exited: Promise<ExitStatus>;
  /** Stops it, and anything it left in its process group. */
  stop(): Promise<void>;
}

export interface Service {
  name: string;
  /** Where its output goes: the reason it died is read from the end of it. */
  logFile: string;
  /** Starts it (again) with the same address and data; resolves once it serves. */
  start(): Promise<Running>;
}

export interface SupervisorOptions {
  say(line: string): void;
  /** Called once when a service cannot be kept running. */
  giveUp(service: string, why: string): void;
  /** Restarts allowed per service within windowMs before giving up. */
  maxRestarts?: number;
  windowMs?: number;
  /** Wait before the n-th restart attempt in a row: n × backoffMs. */
  backoffMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function describeExit({ code, signal }: ExitStatus): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

/**
 * The last few meaningful lines of a log. JSON lines (the worker's and the API's pino logs) are
 * reduced to their message and error; PostgreSQL's and Temporal's lines are kept as they are.
 */
export function lastWords(logFile: string, lines = 3): string {
  const readable = readFileTail(logFile)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      if (!line.startsWith('{')) return line;
      try {
        const entry = JSON.parse(line) as { msg?: string; err?: { message?: string }; error?: string };
        return [entry.msg, entry.err?.message ?? entry.error].filter(Boolean).join(': ') || line;
      } catch {
        return line;
      }
    });
  const tail = readable.slice(-lines).map((line) => (line.length > 240 ? `${line.slice(0, 237)}...` : line));
  return tail.length > 0 ? tail.join(' | ') : '(its log is empty)';
}

export class Supervisor {
  private readonly watched = new Map<string, Running>();
  private readonly restarts = new Map<string, number[]>();
  private stopping = false;
  private readonly maxRestarts: number;
  private readonly windowMs: number;
  private readonly backoffMs: number;

  constructor(private readonly opts: SupervisorOptions) {
    this.maxRestarts = opts.maxRestarts ?? 3;
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.backoffMs = opts.backoffMs ?? 1_000;
  }

  /** Watches a started service from now on. */
  watch(service: Service, running: Running): void {
    this.watched.set(service.name, running);
    void running.exited.then((status) => this.onExit(service, running, status));
  }

  /** Stops watching and stops every service, the last watched first. */
  async stopAll(onError: (name: string, err: Error) => void): Promise<void> {
    this.stopping = true;
    for (const [name, running] of [...this.watched].reverse()) {
      await running.stop().catch((err: Error) => onError(name, err));
    }
    this.watched.clear();
  }

  private async onExit(service: Service, running: Running, status: ExitStatus): Promise<void> {
    if (this.stopping || this.watched.get(service.name) !== running) return;
    const { name, logFile } = service;
    // reaps whatever the process left in its group (PostgreSQL's backends outlive their postmaster)
    await running.stop().catch(() => {});
    let why = `${describeExit(status)}; its log ends: ${lastWords(logFile)}`;
    this.opts.say(`taskd: ${name} stopped (${why})`);
    for (let attempt = 1; !this.stopping; attempt++) {
      const now = Date.now();
      const recent = (this.restarts.get(name) ?? []).filter((t) => now - t < this.windowMs);
      if (recent.length >= this.maxRestarts) {
        const window = `${Math.round(this.windowMs / 60_000)} min`;
        return this.opts.giveUp(name, `${name} could not be kept running (${recent.length} restarts within ${window}; last: ${why})`);
      }
      this.restarts.set(name, [...recent, now]);
      this.opts.say(`taskd: restarting ${name} (${recent.length + 1} of ${this.maxRestarts})…`);
      await sleep(this.backoffMs * attempt);
      if (this.stopping) return;
      try {
        const again = await service.start();
        if (this.stopping) return void (await again.stop().catch(() => {}));
        this.opts.say(`taskd: ${name} is running again`);
        return this.watch(service, again);
      } catch (err) {
        why = `its restart failed: ${(err as Error).message.split('\n')[0]}`;
        this.opts.say(`taskd: ${name}: ${why}`);
      }
    }
  }
}
