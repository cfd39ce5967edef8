// Requests sent only while a dependency is down: a list (needs PostgreSQL) and a create (needs
// PostgreSQL and Temporal), each with its own Idempotency-Key, every few hundred milliseconds and
// without waiting for the previous answer, so a request that hangs does not hide the next ones.
import type { Answer } from './lifecycle';

export class OutageProber {
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private n = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly versionId: string,
    private readonly answers: Answer[],
  ) {}

  private ask(op: string, path: string, init: RequestInit = {}): void {
    const at = Date.now();
    const p = fetch(this.baseUrl + path, {
      ...init,
      headers: { 'Coder-Session-Token': this.token, 'Content-Type': 'application/json', ...(init.headers as Record<string, string>) },
      signal: AbortSignal.timeout(60_000),
    }).then(
      async (res) => {
        const body = await res.text();
        this.answers.push({ at, op, status: res.status, ms: Date.now() - at, ...(res.status >= 400 ? { message: body.slice(0, 120) } : {}) });
      },
      (err: Error) => {
        this.answers.push({ at, op, status: 0, ms: Date.now() - at, message: err.message });
      },
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  start(): void {
    this.timer = setInterval(() => {
      const n = this.n++;
      this.ask('probe-list', '/api/v2/tasks?q=owner:me');
      this.ask('probe-create', '/api/v2/tasks/me', {
        method: 'POST',
        headers: { 'Idempotency-Key': `probe-${n}` },
        body: JSON.stringify({ template_version_id: this.versionId, input: 'probe', name: `probe-${n}` }),
      });
    }, 300);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async drain(): Promise<void> {
    this.stop();
    await Promise.all([...this.inFlight]);
  }
}
