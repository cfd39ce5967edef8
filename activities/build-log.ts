import { appendBuildLogs, type BuildLogLevel, type BuildLogLine } from '../db/build-logs';
import { fork } from '../db/sql';
import type { ActivityDeps } from './deps';

// A build's log as its provisioning activity writes it: lines said within a short window are stored
// together (one multi-row insert — a build that says three lines in a few milliseconds costs one
// round trip and one commit, not three), so a follower still sees the build as it goes, in order,
// at most LOG_BATCH_MS late. A batch that cannot be stored is logged and dropped — a log must never
// fail the build it describes.

export const LOG_BATCH_MS = 50;

export interface BuildLogWriter {
  line(output: string, level?: BuildLogLevel): void;
  /** stores what is still waiting at once; resolves once every line said so far is stored (or given up on) */
  flushed(): Promise<void>;
}

export function buildLogWriter(deps: ActivityDeps, buildId: string, stage: string): BuildLogWriter {
  let chain = Promise.resolve();
  let waiting: BuildLogLine[] = [];
  let timer: NodeJS.Timeout | null = null;
  const store = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (waiting.length === 0) return;
    const batch = waiting;
    waiting = [];
    chain = chain
      .then(() => appendBuildLogs(fork(deps.orm), buildId, batch))
      .catch((err: unknown) => deps.log.warn({ err, buildId, lines: batch.length }, 'build log lines could not be stored'));
  };
  return {
    line(output, level = 'info') {
      waiting.push({ level, stage, output });
      timer ??= setTimeout(store, LOG_BATCH_MS);
    },
    flushed: () => {
      store();
      return chain;
    },
  };
}
