import type { Logger } from '../lib/logger';
import { utf8Head } from '../domain/utf8';
import { APP_STATUS_MESSAGE_MAX_BYTES } from '../domain/app-status';
import { AgentApiClient, type AgentEvent } from './agentapi-client';
import type { AgentMessage, AgentStatus } from './agentapi-wire';
import type { Manifest } from './taskd-client';

// Follows the AI task app through AgentAPI's /events: keeps the whole conversation in memory (the
// log snapshot is taken from it at shutdown, when the app may already be gone), forwards every new
// or changed message, turns the app's state into task app statuses (running → working, stable →
// idle, a new user message → working), and delivers the task's prompt as the first user message.
//
// Every (re)connection starts with a replay of the full state. Until the replay's status_change
// arrives the watcher only rebuilds its view: replayed user messages are history, not new work.

export type StatusReport = { state: 'working' | 'idle'; message: string };

export interface AiAppWatcherOptions {
  baseUrl: string;
  task: NonNullable<Manifest['task']>;
  log: Logger;
  onStatus: (report: StatusReport) => void;
  onMessages: (changed: AgentMessage[]) => void;
  client?: AgentApiClient;
}

/** The first non-empty line of a message, cut to what an app status message may hold. */
export function summaryLine(content: string): string {
  const line = content.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  return utf8Head(line, APP_STATUS_MESSAGE_MAX_BYTES);
}

export class AiAppWatcher {
  private readonly client: AgentApiClient;
  private readonly messages = new Map<number, AgentMessage>();
  private readonly forwarded = new Map<number, string>();
  private readonly abort = new AbortController();
  private status: AgentStatus | null = null;
  private replaying = true;
  private highestUserId = -1;
  private lastReport = '';
  private promptSent = false;
  private delivering = false;
  private done: Promise<void> | null = null;

  constructor(private readonly opts: AiAppWatcherOptions) {
    this.client = opts.client ?? new AgentApiClient(opts.baseUrl, { timeoutMs: 10_000 });
  }

  start(): void {
    this.done ??= this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  /** The conversation as last seen, in id order. */
  conversation(): AgentMessage[] {
    return [...this.messages.values()].sort((a, b) => a.id - b.id);
  }

  /** Asks the app directly; for a snapshot when the event stream never delivered anything. */
  async fetchConversation(): Promise<AgentMessage[]> {
    return this.client.getMessages();
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (!this.abort.signal.aborted) {
      this.replaying = true;
      let received = false;
      try {
        await this.client.subscribeEvents((e) => {
          received = true;
          this.onEvent(e);
        }, this.abort.signal);
      } catch (err) {
        this.opts.log.debug({ err: (err as Error).message }, 'AI app event stream failed; reconnecting');
      }
      if (this.abort.signal.aborted) break;
      backoff = received ? 100 : Math.min(backoff * 2, 2_000);
      await new Promise((r) => setTimeout(r, backoff));
    }
  }

  private onEvent(e: AgentEvent): void {
    if (e.type === 'message_update') {
      const message: AgentMessage = { id: e.id, role: e.role, content: e.message, time: e.time };
      this.messages.set(e.id, message);
      const signature = `${e.role}\n${e.time}\n${e.message}`;
      if (this.forwarded.get(e.id) !== signature) {
        this.forwarded.set(e.id, signature);
        this.opts.onMessages([message]);
      }
      if (e.role === 'user' && e.id > this.highestUserId) {
        this.highestUserId = e.id;
        if (!this.replaying) this.report({ state: 'working', message: summaryLine(e.message) });
      }
      return;
    }
    this.status = e.status;
    this.replaying = false;
    if (e.status === 'running') {
      this.report({ state: 'working', message: summaryLine(this.latest('user')?.content ?? '') });
    } else {
      void this.onStable();
    }
  }

  private async onStable(): Promise<void> {
    // an idle report right before the prompt goes in would only announce a false "ready for input"
    if (await this.deliverPrompt()) return;
    if (this.status === 'stable' && !this.delivering) {
      this.report({ state: 'idle', message: summaryLine(this.latest('agent')?.content ?? '') });
    }
  }

  private needsPrompt(): boolean {
    const { task } = this.opts;
    if (this.promptSent || task.conversation_started || task.prompt.trim() === '') return false;
    // the app remembers an earlier conversation (resumed workspace): the prompt went in back then
    return !this.conversation().some((m) => m.role === 'user');
  }

  /** Sends the prompt once; true when it went in now. A failure is retried at the next stable. */
  private async deliverPrompt(): Promise<boolean> {
    if (this.delivering || !this.needsPrompt()) return false;
    this.delivering = true;
    try {
      await this.client.postMessage(this.opts.task.prompt, 'user');
      this.promptSent = true;
      this.opts.log.info({ taskId: this.opts.task.id }, 'prompt delivered to the AI app');
      return true;
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'prompt not accepted yet; will retry');
      setTimeout(() => {
        if (this.status === 'stable' && !this.abort.signal.aborted) void this.onStable();
      }, 1_000);
      return false;
    } finally {
      this.delivering = false;
    }
  }

  private latest(role: AgentMessage['role']): AgentMessage | undefined {
    return this.conversation()
      .filter((m) => m.role === role)
      .at(-1);
  }

  private report(r: StatusReport): void {
    const key = `${r.state}\n${r.message}`;
    if (key === this.lastReport) return;
    this.lastReport = key;
    this.opts.onStatus(r);
  }
}
