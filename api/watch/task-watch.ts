import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../context';
import { ApiError, notFound } from '../errors';
import { queuedInputJson, taskJson } from '../dto/task';
import { taskAppClient } from '../tasks/app-gate';
import { storedTaskLogs } from '../tasks/stored-logs';
import { getTaskById, type TaskRecord } from '../../db/tasks';
import { openQueuedInputs } from '../../db/queued-inputs';
import { messagesToLogs, type TaskLogEntry } from '../../domain/log-snapshot';
import type { TaskEvents } from './task-events';
import { streamWatch, type RefreshWork, type WatchSession } from './sse-session';

// GET /tasks/{user}/{task}/watch: one task as Server-Sent Events.
//   event: task     the full Task object (with queued_inputs, as GET), on connect and whenever its JSON changes
//   event: logs     {logs, snapshot?}: conversation entries not sent before, or whose content changed
//                   (the last agent message grows while the agent streams), in id order
//   event: deleted  {id}: the task is gone (or no longer visible); the stream ends
//   event: problem  a Coder error body; 4xx ends the stream
// The conversation comes from the live task app while the task is active (as GET /logs does) and
// from what was stored otherwise; if the live app cannot be read, the stored copy stands in.

function logKey(e: TaskLogEntry): string {
  return `${e.type}\n${e.time}\n${e.content}`;
}

/** Which kinds of change can alter the conversation a client sees. */
const LOG_KINDS = new Set(['log', 'state', 'app', 'build']);

class TaskWatch {
  private lastJson = '';
  private lastStatus = '';
  private readonly sentLogs = new Map<number, string>();

  constructor(
    private readonly c: Context<AppEnv>,
    private record: TaskRecord,
  ) {}

  async refresh(session: WatchSession, work: RefreshWork): Promise<void> {
    const kinds = new Set(work.changes.flatMap((ch) => [...ch.kinds]));
    const taskChanged = work.initial || work.resync || [...kinds].some((k) => k !== 'log');
    // read again on every change, a conversation-only one too: it is also the check that the viewer
    // may still see the task, before anything more is sent
    const current = await this.reread();
    if (!current) {
      await session.send('deleted', { id: this.record.id });
      session.end();
      return;
    }
    this.record = current;
    if (taskChanged) {
      // as GET answers it, the send queue included (its rows notify kind "task")
      const queued = (await openQueuedInputs(this.c.get('em'), [current.id])).get(current.id) ?? [];
      const json = JSON.stringify({ ...taskJson(current), queued_inputs: queued.map(queuedInputJson) });
      if (json !== this.lastJson) {
        this.lastJson = json;
        await session.send('task', JSON.parse(json));
      }
    }
    const statusChanged = this.record.status !== this.lastStatus;
    this.lastStatus = this.record.status;
    if (work.initial || work.resync || statusChanged || [...kinds].some((k) => LOG_KINDS.has(k))) {
      await this.sendNewLogs(session);
    }
  }

  /** The task as the read model shows it now, or null once deleted or no longer visible to the caller. */
  private async reread(): Promise<TaskRecord | null> {
    return getTaskById(this.c.get('em'), this.c.get('actor'), this.record.id);
  }

  private async conversation(): Promise<{ logs: TaskLogEntry[]; snapshot: boolean } | null> {
    if (this.record.status === 'active') {
      try {
        const client = await taskAppClient(this.c.get('em'), this.c.get('actor'), this.record);
        return { logs: messagesToLogs(await client.getMessages()), snapshot: false };
      } catch (err) {
        this.c.get('log').debug({ err: (err as Error).message }, 'live conversation unavailable; using the stored one');
      }
    }
    try {
      return { logs: (await storedTaskLogs(this.c.get('em'), this.record.id)).logs, snapshot: true };
    } catch (err) {
      // an undecodable snapshot is GET /logs's 500 to report; the stream just has nothing to add
      if (err instanceof ApiError) return null;
      throw err;
    }
  }

  private async sendNewLogs(session: WatchSession): Promise<void> {
    const conversation = await this.conversation();
    if (!conversation) return;
    const fresh = conversation.logs.filter((e) => this.sentLogs.get(e.id) !== logKey(e));
    if (fresh.length === 0) return;
    for (const e of fresh) this.sentLogs.set(e.id, logKey(e));
    await session.send('logs', { logs: fresh, ...(conversation.snapshot ? { snapshot: true } : {}) });
  }
}

/** Starts the stream for a task the caller was just authorised to read (resolveTaskPath). */
export function watchTask(c: Context<AppEnv>, deps: AppDeps, events: TaskEvents, task: TaskRecord): Response {
  // the same conditions under which GET /tasks/{user}/{task} refuses to answer
  if (!task.workspaceId) throw new ApiError(500, 'Internal error fetching task.', 'Task workspace ID is invalid.');
  if (!task.workspace || !task.latestBuild) throw notFound();
  const watch = new TaskWatch(c, task);
  return streamWatch(c, deps, events, {
    interest: { taskId: task.id },
    refresh: (session, work) => watch.refresh(session, work),
  });
}
