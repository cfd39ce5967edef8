import { CliError } from './command';
import { during, type TaskdClient } from './client';

// The Tasks API as the CLI uses it (spec §1.3, §3), and task identifiers (§8): a UUID, a name of
// one's own task, or owner/name.

export interface TaskStateEntry {
  timestamp: string;
  state: string;
  message: string;
  uri: string;
}

export interface Task {
  id: string;
  organization_id: string;
  owner_id: string;
  owner_name: string;
  name: string;
  display_name: string;
  template_id: string;
  template_version_id: string;
  template_name: string;
  template_display_name: string;
  workspace_id: string | null;
  workspace_name: string;
  workspace_status?: string;
  workspace_build_number?: number;
  workspace_agent_id: string | null;
  workspace_agent_lifecycle: string | null;
  workspace_agent_health: { healthy: boolean; reason?: string } | null;
  workspace_app_id: string | null;
  initial_prompt: string;
  status: string;
  current_state: TaskStateEntry | null;
  created_at: string;
  updated_at: string;
}

export interface TaskLogEntry {
  id: number;
  content: string;
  type: 'input' | 'output';
  time: string;
}

export interface TaskLogs {
  logs: TaskLogEntry[];
  snapshot?: boolean;
  snapshot_at?: string;
  /** beyond Coder: inputs queued for the agent, not in the conversation yet */
  queued?: QueuedInput[];
}

export interface WorkspaceBuild {
  id: string;
  build_number: number;
  transition: string;
  status: string;
  job?: { status: string; error?: string };
}

export const TASK_STATUSES = ['pending', 'initializing', 'active', 'paused', 'error', 'unknown'] as const;

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export interface TaskRef {
  owner: string;
  task: string;
}

/** Splits an identifier; more than one "/" (or an empty part) is not an identifier at all. */
export function parseTaskIdentifier(identifier: string): TaskRef {
  const id = identifier.trim();
  const invalid = () => new CliError(`invalid task identifier: "${identifier}"`);
  if (id === '') throw invalid();
  if (UUID.test(id)) return { owner: 'me', task: id };
  const parts = id.split('/');
  if (parts.length > 2 || parts.some((p) => p === '')) throw invalid();
  return parts.length === 2 ? { owner: parts[0], task: parts[1] } : { owner: 'me', task: parts[0] };
}

const seg = encodeURIComponent;

export function displayName(task: Pick<Task, 'owner_name' | 'name'>): string {
  return `${task.owner_name}/${task.name}`;
}

export function resolveTask(client: TaskdClient, identifier: string): Promise<Task> {
  const ref = parseTaskIdentifier(identifier);
  return during(`resolve task "${identifier}"`, () => client.get<Task>(`/tasks/${seg(ref.owner)}/${seg(ref.task)}`));
}

/** Re-reads a task by id (ids resolve for any owner, so "me" is always a valid {user}). */
export function getTask(client: TaskdClient, id: string): Promise<Task> {
  return client.get<Task>(`/tasks/me/${seg(id)}`);
}

export async function listTasks(client: TaskdClient, filter: { owner?: string; status?: string }): Promise<Task[]> {
  const terms: string[] = [];
  if (filter.owner) terms.push(`owner:"${filter.owner}"`);
  if (filter.status) terms.push(`status:"${filter.status}"`);
  const res = await client.get<{ tasks: Task[] }>('/tasks', { q: terms.length ? terms.join(' ') : undefined });
  return res.tasks;
}

export function createTask(
  client: TaskdClient,
  owner: string,
  body: { template_version_id: string; template_version_preset_id?: string; input: string; name?: string },
): Promise<Task> {
  return client.post<Task>(`/tasks/${seg(owner)}`, body);
}

export function taskPath(task: Pick<Task, 'id'>): string {
  return `/tasks/me/${seg(task.id)}`;
}

export async function pauseTask(client: TaskdClient, task: Task): Promise<WorkspaceBuild> {
  return (await client.post<{ workspace_build: WorkspaceBuild }>(`${taskPath(task)}/pause`)).workspace_build;
}

export async function resumeTask(client: TaskdClient, task: Task): Promise<WorkspaceBuild> {
  return (await client.post<{ workspace_build: WorkspaceBuild }>(`${taskPath(task)}/resume`)).workspace_build;
}

export function deleteTask(client: TaskdClient, task: Task): Promise<void> {
  return client.delete<void>(taskPath(task));
}

export function sendToTask(client: TaskdClient, task: Task, input: string): Promise<void> {
  return client.post<void>(`${taskPath(task)}/send`, { input });
}

export interface QueuedInput {
  id: string;
  input: string;
  state: string;
  created_at: string;
}

/** Queues input (beyond Coder): delivered by the server when the app is next idle; a paused task is resumed first. */
export function queueForTask(client: TaskdClient, task: Task, input: string): Promise<QueuedInput> {
  return client.post<QueuedInput>(`${taskPath(task)}/send?queue=true&resume=true`, { input });
}

export async function queuedInputs(client: TaskdClient, task: Task): Promise<QueuedInput[]> {
  return (await client.get<{ queued_inputs: QueuedInput[] }>(`${taskPath(task)}/queued-inputs`)).queued_inputs;
}

export function cancelQueuedInput(client: TaskdClient, task: Task, id: string): Promise<void> {
  return client.delete<void>(`${taskPath(task)}/queued-inputs/${seg(id)}`);
}

export function taskLogs(client: TaskdClient, task: Task): Promise<TaskLogs> {
  return client.get<TaskLogs>(`${taskPath(task)}/logs`);
}

export function getBuild(client: TaskdClient, id: string): Promise<WorkspaceBuild> {
  return client.get<WorkspaceBuild>(`/workspacebuilds/${seg(id)}`);
}
