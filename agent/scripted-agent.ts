import type { PersistedConversation } from './agent-state-file';
import { composeReply, interruptedReply, streamingPrefixes } from './scripted-reply';
import {
  rfc3339Now,
  type AgentMessage,
  type AgentStatus,
  type ErrorBody,
  type ErrorLevel,
  type ServerEvent,
} from './agentapi-wire';

export type ScriptedAgentOptions = {
  agentType: string;
  greeting: string;
  thinkMs: number;
  settleMs: number;
  streamStepMs: number;
  /** Replay and emit `agent_error`; off by default because Coder's Go SDK dies on it (§1.5). */
  emitAgentErrors: boolean;
  /** Called after every change that belongs in the state file. */
  onChange: () => void;
};

export type SendResult = { ok: true } | { ok: false; error: string };

type Listener = (event: ServerEvent) => void;

// The real server keeps the last 100 agent errors for replay (§1.5).
const MAX_ERRORS = 100;

/**
 * The conversation state machine of the built-in agent, mirroring agentapi's PTY semantics:
 * ids are positions, only the last message changes, `running` until settled, no input queue.
 */
export class ScriptedAgent {
  private readonly messages: AgentMessage[];
  private status: AgentStatus = 'running';
  private pendingReplyTo: number | null;
  private readonly listeners = new Set<Listener>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly errors: ErrorBody[] = [];
  private stopped = false;

  constructor(
    private readonly opts: ScriptedAgentOptions,
    restored?: PersistedConversation,
  ) {
    this.messages = restored
      ? restored.messages.map((m) => ({ ...m }))
      : [{ id: 0, role: 'agent', content: opts.greeting, time: rfc3339Now() }];
    this.pendingReplyTo = restored?.pendingReplyTo ?? null;
  }

  /** Begin the start-up phase: finish an interrupted turn, or settle into `stable`. */
  start(): void {
    if (this.pendingReplyTo !== null) this.runTurn(this.pendingReplyTo);
    else this.after(this.opts.settleMs, () => this.setStatus('stable'));
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.listeners.clear();
  }

  getStatus(): AgentStatus {
    return this.status;
  }

  /** Copies in the wire's member order (id, content, role, time), as agentapi's Go struct has it. */
  getMessages(): AgentMessage[] {
    return this.messages.map(({ id, content, role, time }) => ({ id, content, role, time }));
  }

  toState(): PersistedConversation {
    return {
      version: 1,
      agentType: this.opts.agentType,
      messages: this.getMessages(),
      pendingReplyTo: this.pendingReplyTo,
    };
  }

  /**
   * Returns the replay snapshot and registers the listener in the same tick, so a subscriber can
   * neither miss an event nor see one twice.
   */
  subscribe(listener: Listener): { replay: ServerEvent[]; unsubscribe: () => void } {
    const replay: ServerEvent[] = this.messages.map((m) => ({
      event: 'message_update',
      data: { id: m.id, role: m.role, message: m.content, time: m.time },
    }));
    replay.push({ event: 'status_change', data: { status: this.status, agent_type: this.opts.agentType } });
    if (this.opts.emitAgentErrors) {
      for (const data of this.errors) replay.push({ event: 'agent_error', data });
    }
    this.listeners.add(listener);
    return { replay, unsubscribe: () => this.listeners.delete(listener) };
  }

  sendUser(rawContent: string): SendResult {
    const content = rawContent.trim();
    // Same order of checks as agentapi: emptiness is reported even while the agent is busy.
    if (content === '') return { ok: false, error: 'failed to send message: message must not be empty' };
    if (this.status !== 'stable') {
      return {
        ok: false,
        error: 'failed to send message: message can only be sent when the agent is waiting for user input',
      };
    }
    const id = this.messages.length;
    this.messages.push({ id, role: 'user', content, time: rfc3339Now() });
    this.emitMessage(id);
    this.runTurn(id);
    return { ok: true };
  }

  /** Raw input never enters the history; Esc or Ctrl-C interrupts like it would a terminal agent. */
  sendRaw(content: string): void {
    if (content.includes('\u001b') || content.includes('\u0003')) this.interrupt();
  }

  recordError(message: string, level: ErrorLevel): void {
    const data: ErrorBody = { message, level, time: rfc3339Now() };
    this.errors.push(data);
    if (this.errors.length > MAX_ERRORS) this.errors.shift();
    if (this.opts.emitAgentErrors) this.emit({ event: 'agent_error', data });
  }

  private runTurn(userId: number): void {
    this.pendingReplyTo = userId;
    this.setStatus('running');
    this.opts.onChange();
    const agentId = userId + 1;
    // After a restart mid-stream, skip the prefixes already shown so the message only grows.
    const shown = this.messages[agentId]?.content.length ?? -1;
    const prefixes = streamingPrefixes(composeReply(this.messages[userId].content));
    const remaining = prefixes.filter((p) => p.length > shown);
    if (remaining.length === 0) return this.finishTurn();
    this.after(this.opts.thinkMs, () => this.streamReply(agentId, remaining, 0));
  }

  private streamReply(agentId: number, prefixes: string[], index: number): void {
    this.putAgentMessage(agentId, prefixes[index]);
    if (index + 1 < prefixes.length) {
      this.after(this.opts.streamStepMs, () => this.streamReply(agentId, prefixes, index + 1));
    } else {
      this.finishTurn();
    }
  }

  private finishTurn(): void {
    this.pendingReplyTo = null;
    this.opts.onChange();
    this.after(this.opts.settleMs, () => this.setStatus('stable'));
  }

  private interrupt(): void {
    if (this.status === 'stable') return;
    this.clearTimers();
    if (this.pendingReplyTo !== null) {
      const agentId = this.pendingReplyTo + 1;
      this.putAgentMessage(agentId, interruptedReply(this.messages[agentId]?.content));
      this.pendingReplyTo = null;
      this.opts.onChange();
    }
    this.setStatus('stable');
  }

  /** Appends the agent message, or grows it in place; the time tracks the latest change (§2.5). */
  private putAgentMessage(id: number, content: string): void {
    const time = rfc3339Now();
    const existing = this.messages[id];
    if (existing) {
      existing.content = content;
      existing.time = time;
    } else {
      this.messages.push({ id, role: 'agent', content, time });
    }
    this.emitMessage(id);
    this.opts.onChange();
  }

  private setStatus(status: AgentStatus): void {
    // Duplicate status_change events are suppressed, as on the real server.
    if (this.status === status) return;
    this.status = status;
    this.emit({ event: 'status_change', data: { status, agent_type: this.opts.agentType } });
  }

  private emitMessage(id: number): void {
    const m = this.messages[id];
    this.emit({ event: 'message_update', data: { id, role: m.role, message: m.content, time: m.time } });
  }

  private emit(event: ServerEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private after(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
