import type { ManifestApp, ReportedHealth } from './taskd-client';

// Health of one app, the way Coder's agent judges it: any HTTP answer below 500 from the
// healthcheck URL is healthy; `threshold` failures in a row, `interval_s` apart, make it unhealthy.
// While an app is still initializing it is probed more often than its interval (a task should turn
// active as soon as its app answers), but it is only declared unhealthy after the same total time.

const STARTUP_PROBE_MS = 250;

export async function probe(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.body?.cancel().catch(() => undefined);
    return res.status < 500;
  } catch {
    return false;
  }
}

export class HealthChecker {
  private health: ReportedHealth = 'initializing';
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly startedAt = Date.now();

  constructor(
    private readonly app: ManifestApp & { healthcheck: NonNullable<ManifestApp['healthcheck']> },
    private readonly onChange: (health: ReportedHealth) => void,
  ) {}

  get current(): ReportedHealth {
    return this.health;
  }

  start(): void {
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const { url, interval_s, threshold } = this.app.healthcheck;
    const intervalMs = interval_s * 1000;
    const ok = await probe(url, Math.min(intervalMs, 5_000));
    if (this.stopped) return;
    if (ok) {
      this.failures = 0;
      this.set('healthy');
    } else if (this.health === 'initializing') {
      if (Date.now() - this.startedAt >= threshold * intervalMs) this.set('unhealthy');
    } else if (++this.failures >= threshold) {
      this.set('unhealthy');
    }
    const next = this.health === 'initializing' ? Math.min(STARTUP_PROBE_MS, intervalMs) : intervalMs;
    this.timer = setTimeout(() => void this.tick(), next);
  }

  private set(health: ReportedHealth): void {
    if (health === this.health) return;
    this.health = health;
    this.onChange(health);
  }
}
