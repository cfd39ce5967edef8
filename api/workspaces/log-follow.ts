import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import { buildLogComplete, buildLogs, type BuildLogRecord } from '../../db/build-logs';
import { fork } from '../../db/sql';
import type { Orm } from '../../db/orm';

// `GET /workspacebuilds/{id}/logs?follow` once the socket is open, as Coder's log follower does: every
// line after `after` as one JSON text message, then each new line as the build writes it, and a
// normal close ("done") once the build has ended and its last line was sent. New lines are found by
// polling the table (FOLLOW_POLL_MS): a build writes a few dozen lines over seconds, and the poll
// stops with the build.

const FOLLOW_POLL_MS = 250;

export function buildLogJson(l: BuildLogRecord) {
  return { id: l.id, created_at: l.createdAt, log_source: 'provisioner' as const, log_level: l.level, stage: l.stage, output: l.output };
}

export async function followBuildLog(ws: WebSocket, deps: { orm: Orm; log: Logger }, buildId: string, after: number): Promise<void> {
  let open = true;
  ws.on('close', () => {
    open = false;
  });
  ws.on('error', () => {
    open = false;
  });
  let last = after;
  try {
    while (open) {
      const em = fork(deps.orm);
      // complete is read before the lines: a line written after that read is found next round
      const complete = await buildLogComplete(em, buildId);
      for (const line of await buildLogs(em, buildId, { after: last })) {
        if (!open) return;
        ws.send(JSON.stringify(buildLogJson(line)));
        last = line.id;
      }
      if (complete) {
        ws.close(1000, 'done');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
    }
  } catch (err) {
    deps.log.error({ err, buildId }, 'following a build log failed');
    if (open) ws.close(1011, 'failed to query logs');
  }
}
