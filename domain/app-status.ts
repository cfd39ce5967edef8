// Rules for the workspace app status an agent reports (spec §4.2) and the task notifications
// it may trigger (§7.1). Statuses feed `current_state`, so the message is cleaned here: it is
// agent-controlled text that ends up in every client's UI.

import { isGoPrint, isGoSpace, trimSpace } from './go-text';
import { type AgentLifecycle, type AppStatusState, isAppStatusState } from './task-status';
import { utf8ByteLength } from './utf8';

export const APP_STATUS_MESSAGE_MAX_BYTES = 160;

export interface AppStatusReport {
  app_slug: string;
  state: string;
  message: string;
  uri: string;
}

export interface AppStatusValidationError {
  message: string;
  validations: { field: string; detail: string }[];
}

/** The 400 body for an invalid report, or null. The length limit applies to the raw message. */
export function validateAppStatusReport(report: AppStatusReport): AppStatusValidationError | null {
  if (utf8ByteLength(report.message) > APP_STATUS_MESSAGE_MAX_BYTES) {
    return {
      message: 'Message is too long.',
      validations: [{ field: 'message', detail: 'Message must be less than 160 characters.' }],
    };
  }
  if (!isAppStatusState(report.state)) {
    return {
      message: 'Invalid state provided.',
      validations: [{ field: 'state', detail: 'State must be one of: complete, failure, working, idle.' }],
    };
  }
  return null;
}

// Elements whose text is code, not prose: dropped with their content.
const HTML_RAW_TEXT = /<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const HTML_COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
const HTML_TAG = /<\/?[a-zA-Z][^>]*>|<[!?][^>]*>/g;
// CSI, OSC, DCS/SOS/PM/APC strings, then any other escape sequence.
const ANSI =
  // eslint-disable-next-line no-control-regex -- matching terminal control sequences is the point
  /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][\s\S]*?(?:\x07|\x1b\\)|\x1b[PX^_][\s\S]*?\x1b\\|\x1b[ -/]*[0-~]/g;

/**
 * Makes an agent-supplied message safe and tidy for display: markup and terminal escapes
 * removed, non-printable characters dropped, whitespace runs folded to one space, trimmed.
 * Unlike Coder (bluemonday) the text is not HTML-entity-escaped: this is JSON, not HTML.
 */
export function sanitizeStatusMessage(s: string): string {
  const stripped = s.replace(HTML_RAW_TEXT, '').replace(HTML_COMMENT, '').replace(HTML_TAG, '').replace(ANSI, '');
  let out = '';
  let pendingSpace = false;
  for (const ch of stripped) {
    if (isGoSpace(ch)) {
      pendingSpace = true;
    } else if (isGoPrint(ch)) {
      if (pendingSpace && out !== '') out += ' ';
      pendingSpace = false;
      out += ch;
    }
  }
  return trimSpace(out);
}

/**
 * Whether the report should push the workspace's autostop deadline out: while the agent works,
 * and once more as it stops working, so a busy task is never auto-paused mid-run.
 */
export function shouldBumpActivity(previousState: AppStatusState | null, newState: AppStatusState): boolean {
  return newState === 'working' || previousState === 'working';
}

export type TaskStateNotification = 'task_working' | 'task_idle' | 'task_completed' | 'task_failed';
export type TaskNotificationKey = TaskStateNotification | 'task_paused' | 'task_resumed';

const STATE_TEMPLATE: Record<AppStatusState, TaskStateNotification> = {
  working: 'task_working',
  idle: 'task_idle',
  complete: 'task_completed',
  failure: 'task_failed',
};

export interface StateNotificationInputs {
  isTaskWorkspace: boolean;
  agentLifecycle: AgentLifecycle | null;
  /** workspace_app_id of the task (its latest task_workspace_apps row); null if none/unreadable. */
  taskAppId: string | null;
  /** The app the status is being reported for. */
  appId: string;
  previousState: AppStatusState | null;
  newState: AppStatusState;
}

/** The state notification a new app status should send (§7.1 rules 1-5), or null. */
export function stateNotification(input: StateNotificationInputs): TaskStateNotification | null {
  if (!input.isTaskWorkspace) return null;
  if (input.agentLifecycle !== 'ready') return null;
  // Only the task's own app speaks for the task; sidecar apps report too.
  if (input.taskAppId === null || input.taskAppId !== input.appId) return null;
  if (input.previousState === input.newState) return null;
  // Every task starts out working; announcing that is noise.
  if (input.previousState === null && input.newState === 'working') return null;
  return STATE_TEMPLATE[input.newState];
}

export type NotificationLabels = Readonly<Record<string, string>>;

export interface NotificationActionContext {
  baseUrl: string;
  username: string;
  labels: NotificationLabels;
}

export interface NotificationTemplate {
  id: string;
  name: string;
  group: 'Task Events';
  enabledByDefault: boolean;
  title(labels: NotificationLabels): string;
  body(labels: NotificationLabels): string;
  actions(ctx: NotificationActionContext): { label: string; url: string }[];
}

function label(labels: NotificationLabels, key: string): string {
  return labels[key] ?? '';
}

// State notifications link tasks by workspace name; pause/resume ones by task id.
function actionsVia(taskKey: 'workspace' | 'task_id') {
  return ({ baseUrl, username, labels }: NotificationActionContext) => [
    { label: 'View task', url: `${baseUrl}/tasks/${username}/${label(labels, taskKey)}` },
    { label: 'View workspace', url: `${baseUrl}/@${username}/${label(labels, 'workspace')}` },
  ];
}

export const NOTIFICATION_TEMPLATES: Readonly<Record<TaskNotificationKey, NotificationTemplate>> = {
  task_working: {
    id: 'bd4b7168-d05e-4e19-ad0f-3593b77aa90f',
    name: 'Task Working',
    group: 'Task Events',
    enabledByDefault: false,
    title: (l) => `Task '${label(l, 'workspace')}' is working`,
    body: (l) => `The task '${label(l, 'task')}' transitioned to a working state.`,
    actions: actionsVia('workspace'),
  },
  task_idle: {
    id: 'd4a6271c-cced-4ed0-84ad-afd02a9c7799',
    name: 'Task Idle',
    group: 'Task Events',
    enabledByDefault: false,
    title: (l) => `Task '${label(l, 'workspace')}' is idle`,
    body: (l) => `The task '${label(l, 'task')}' is idle and ready for input.`,
    actions: actionsVia('workspace'),
  },
  task_completed: {
    id: '8c5a4d12-9f7e-4b3a-a1c8-6e4f2d9b5a7c',
    name: 'Task Completed',
    group: 'Task Events',
    enabledByDefault: false,
    title: (l) => `Task '${label(l, 'workspace')}' completed`,
    body: (l) => `The task '${label(l, 'task')}' has completed successfully.`,
    actions: actionsVia('workspace'),
  },
  task_failed: {
    id: '3b7e8f1a-4c2d-49a6-b5e9-7f3a1c8d6b4e',
    name: 'Task Failed',
    group: 'Task Events',
    enabledByDefault: false,
    title: (l) => `Task '${label(l, 'workspace')}' failed`,
    body: (l) => `The task '${label(l, 'task')}' has failed. Check the logs for more details.`,
    actions: actionsVia('workspace'),
  },
  task_paused: {
    id: '2a74f3d3-ab09-4123-a4a5-ca238f4f65a1',
    name: 'Task Paused',
    group: 'Task Events',
    enabledByDefault: true,
    title: (l) => `Task '${label(l, 'task')}' is paused`,
    body: (l) => `The task '${label(l, 'task')}' was paused (${label(l, 'pause_reason')}).`,
    actions: actionsVia('task_id'),
  },
  task_resumed: {
    id: '843ee9c3-a8fb-4846-afa9-977bec578649',
    name: 'Task Resumed',
    group: 'Task Events',
    enabledByDefault: true,
    title: (l) => `Task '${label(l, 'task')}' has resumed`,
    body: (l) => `The task '${label(l, 'task')}' has resumed.`,
    actions: actionsVia('task_id'),
  },
};
