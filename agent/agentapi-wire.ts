// Wire shapes of the AgentAPI protocol (shared/spec/agentapi.md §1.3), shared by the built-in
// agent and the client so both sides agree on field names like SSE's `message` vs REST's `content`.

export const AGENTAPI_DEFAULT_PORT = 3284;

export type AgentStatus = 'running' | 'stable';
export type ConversationRole = 'user' | 'agent';
export type MessageType = 'user' | 'raw';
export type ErrorLevel = 'error' | 'warning';

export type AgentMessage = { id: number; content: string; role: ConversationRole; time: string };

export type StatusBody = { status: AgentStatus; agent_type: string; transport: 'pty' };

export type MessageUpdateBody = { id: number; role: ConversationRole; message: string; time: string };
export type StatusChangeBody = { status: AgentStatus; agent_type: string };
export type ErrorBody = { message: string; level: ErrorLevel; time: string };

/** One SSE frame as the server sends it: `event: <name>` plus one `data:` line. */
export type ServerEvent =
  | { event: 'message_update'; data: MessageUpdateBody }
  | { event: 'status_change'; data: StatusChangeBody }
  | { event: 'agent_error'; data: ErrorBody };

/** RFC 3339 in UTC; Go emits nanoseconds but any RFC 3339 parser accepts milliseconds. */
export function rfc3339Now(): string {
  return new Date().toISOString();
}
