import type { AgentMessage } from './agentapi-wire';

// The workspace agent's view of the taskd API (/api/v2/workspaceagents/me/*). Every call either
// succeeds or throws a TaskdCallError that says whether trying again can help: the caller (the
// report queue) retries transport failures and 5xx answers while the server is away.

export interface ManifestApp {
  id: string;
  slug: string;
  display_name: string;
  url: string;
  command: string | null;
  port: number | null;
  healthcheck: { url: string; interval_s: number; threshold: number } | null;
}

export interface Manifest {
  agent_id: string;
  agent_name: string;
  workspace_id: string;
  workspace_name: string;
  owner_name: string;
  build_number: number;
  apps: ManifestApp[];
  env: Record<string, string>;
  ai_app_slug: string | null;
  task: { id: string; prompt: string; conversation_started: boolean } | null;
  server_time: string;
}

export type LifecycleState = 'created' | 'starting' | 'ready' | 'start_error' | 'shutting_down' | 'off';
export type ReportedHealth = 'healthy' | 'unhealthy' | 'initializing';
export type ReportedAppState = 'working' | 'idle' | 'complete' | 'failure';

export class TaskdCallError extends Error {
  constructor(
    message: string,
    /** HTTP status, or null when no answer came back */
    readonly status: number | null,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'TaskdCallError';
  }
}

export class TaskdAgentClient {
  private readonly base: string;

  constructor(
    url: string,
    private readonly token: string,
    private readonly timeoutMs = 15_000,
  ) {
    this.base = `${url.replace(/\/+$/, '')}/api/v2/workspaceagents/me`;
  }

  async getManifest(): Promise<Manifest> {
    return (await this.call('GET', '/manifest')) as Manifest;
  }

  async reportLifecycle(state: LifecycleState, changedAt: string, reason?: string): Promise<void> {
    await this.call('POST', '/report-lifecycle', { state, changed_at: changedAt, ...(reason ? { reason } : {}) });
  }

  async reportAppHealth(healths: Record<string, ReportedHealth>): Promise<void> {
    await this.call('POST', '/app-health', { healths });
  }

  async reportAppStatus(report: { app_slug: string; state: ReportedAppState; message: string; uri?: string }): Promise<void> {
    await this.call('PATCH', '/app-status', { uri: '', ...report });
  }

  async uploadLogSnapshot(taskId: string, messages: AgentMessage[]): Promise<void> {
    await this.call('POST', `/tasks/${encodeURIComponent(taskId)}/log-snapshot?format=agentapi`, { messages });
  }

  async postMessages(taskId: string, messages: AgentMessage[]): Promise<void> {
    await this.call('POST', `/tasks/${encodeURIComponent(taskId)}/messages`, { messages });
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const what = `${method} ${path.split('?')[0]}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: {
          'Coder-Session-Token': this.token,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new TaskdCallError(`${what}: ${(err as Error).message}`, null, true);
    }
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        const parsed = JSON.parse(text) as { message?: string; detail?: string };
        message = [parsed.message, parsed.detail].filter(Boolean).join(' ');
      } catch {
        // not the JSON envelope (a proxy in between): keep the raw text
      }
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
      throw new TaskdCallError(`${what}: HTTP ${res.status}: ${message}`, res.status, retryable);
    }
    return text ? JSON.parse(text) : undefined;
  }
}
