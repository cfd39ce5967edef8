import { appendBuildLogs, type BuildLogLevel } from '../db/build-logs';
import { fork } from '../db/sql';
import type { ActivityDeps } from './deps';

// A build's log as its provisioning activity writes it: each line is stored as soon as it is said
// (so a follower sees the build as it goes), in order, and a line that cannot be stored is logged and
// dropped — a log must never fail the build it describes.

export interface BuildLogWriter {
  line(output: string, level?: BuildLogLevel): void;
  /** resolves once every line said so far is stored (or given up on) */
  flushed(): Promise<void>;
}

export function buildLogWriter(deps: ActivityDeps, buildId: string, stage: string): BuildLogWriter {
  let chain = Promise.resolve();
  return {
    line(output, level = 'info') {
      chain = chain
        .then(() => appendBuildLogs(fork(deps.orm), buildId, [{ level, stage, output }]))
        .catch((err: unknown) => deps.log.warn({ err, buildId }, 'a build log line could not be stored'));
    },
    flushed: () => chain,
  };
}
