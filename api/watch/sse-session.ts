import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { AppDeps, AppEnv } from '../context';
import { ApiError, unavailable } from '../errors';
import { sessionTokenFrom, signedOut } from '../middleware/auth';
import { verifyApiKey } from '../auth/api-keys';
import type { TaskChange, TaskEventListener, TaskEvents, TaskInterest } from './task-events';

// The plumbing every watch stream shares: subscribe before the first read (so nothing between the
// read and the subscription is lost), run refreshes one at a time with the changes that arrived
// meanwhile merged into the next one, keep the connection alive through proxies with a comment
// every heartbeat (15 s unless configured), and drop the subscription the moment the client goes away or the process stops.
//
// A stream outlives the request that opened it, so before every refresh after the first it takes a
// fresh EntityManager (no stale identity map across minutes) and re-checks the session token. The
// token is also re-checked the moment the session cache hears that the key or its user changed
// (logout elsewhere, a deleted key, a suspended user), and at every heartbeat: a revoked session's
// stream ends within seconds even when nothing it watches changes.

export interface RefreshWork {
  initial: boolean;
  /** changes may have been missed: re-read everything */
  resync: boolean;
  changes: TaskChange[];
}

export interface WatchSession {
  send(event: string, data: unknown): Promise<void>;
  /** ends the stream after what was sent */
  end(): void;
}

export interface WatchSpec {
  interest: TaskInterest;
  /** drops changes this watch does not show (e.g. another owner's task under a broader subscription) */
  relevant?: (change: TaskChange) => boolean;
  refresh: (session: WatchSession, work: RefreshWork) => Promise<void>;
}

export function requireEvents(deps: AppDeps): TaskEvents {
  if (!deps.events) throw unavailable('Live updates', 'This API process was started without the task change listener.');
  return deps.events;
}

/** A Coder-style error body sent as `event: problem` (EventSource reserves the name "error"). */
function problemOf(err: unknown): { message: string; detail?: string } {
  if (err instanceof ApiError) return err.body();
  return { message: 'An internal server error occurred.', detail: 'See the server log for the request id.' };
}

async function reauthenticate(c: Context<AppEnv>, deps: AppDeps): Promise<void> {
  c.set('em', deps.orm.em.fork());
  const token = sessionTokenFrom(c);
  const verified = token ? await verifyApiKey(c.get('em'), token, { cache: deps.sessions }) : null;
  if (!verified?.ok) throw signedOut('The session ended while the stream was open.');
}

export function streamWatch(c: Context<AppEnv>, deps: AppDeps, events: TaskEvents, spec: WatchSpec): Response {
  c.header('X-Accel-Buffering', 'no');
  const response = streamSSE(c, async (stream: SSEStreamingApi) => {
    const log = c.get('log');
    let ended = false;
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const session: WatchSession = {
      async send(event, data) {
        if (!ended) await stream.writeSSE({ event, data: JSON.stringify(data) });
      },
      end() {
        ended = true;
        finish();
      },
    };

    let queued: RefreshWork | null = { initial: true, resync: false, changes: [] };
    let running = false;
    const pump = async () => {
      if (running) return;
      running = true;
      try {
        while (queued && !ended) {
          const work = queued;
          queued = null;
          try {
            if (!work.initial) await reauthenticate(c, deps);
            await spec.refresh(session, work);
          } catch (err) {
            if (err instanceof ApiError && err.status >= 500) log.warn({ err }, 'watch refresh failed');
            else if (!(err instanceof ApiError)) log.error({ err }, 'watch refresh failed');
            await session.send('problem', problemOf(err));
            // a refused session or a vanished right to see ends the stream; a hiccup waits for the next change
            if (!(err instanceof ApiError) || err.status < 500) session.end();
          }
        }
      } finally {
        running = false;
      }
    };
    const enqueue = (changes: TaskChange[], resync: boolean) => {
      queued ??= { initial: false, resync: false, changes: [] };
      queued.resync ||= resync;
      queued.changes.push(...changes);
      void pump();
    };

    const listener: TaskEventListener = {
      onChanges(changes) {
        const wanted = spec.relevant ? changes.filter(spec.relevant) : changes;
        if (wanted.length > 0) enqueue(wanted, false);
      },
      onResync: () => enqueue([], true),
      onClose: () => session.end(),
    };
    const unsubscribe = events.subscribe(spec.interest, listener);
    const recheck = () => {
      if (ended) return;
      reauthenticate(c, deps).catch(async (err: unknown) => {
        // only a refused session ends the stream here; a database hiccup waits for the next check
        if (!(err instanceof ApiError) || err.status !== 401 || ended) return;
        await session.send('problem', problemOf(err)).catch(() => {});
        session.end();
      });
    };
    const actor = c.get('actor');
    // the viewer's key, account or memberships changed: their session is checked and what they may see
    // is read again at once (a revoked role ends a task stream, narrows a list)
    const rightsChanged = () => {
      recheck();
      if (!ended) enqueue([], true);
    };
    const unwatch = deps.sessions?.watch({ keyId: actor.apiKeyId, userId: actor.userId }, rightsChanged) ?? (() => {});
    const heartbeat = setInterval(() => {
      void stream.write(': keepalive\n\n');
      recheck();
    }, deps.config.http.watchHeartbeatMs);
    stream.onAbort(() => session.end());
    try {
      await pump();
      await finished;
    } finally {
      ended = true;
      clearInterval(heartbeat);
      unwatch();
      unsubscribe();
    }
  });
  // Hono's SSE helper says no-cache; a stream of conversations is kept by nobody, as every API answer
  response.headers.set('Cache-Control', 'no-store');
  return response;
}
