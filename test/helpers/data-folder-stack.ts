// A test stack whose data folder looks like `npm start`'s: its own Temporal dev server (with the Web
// UI) keeps temporal.db in that folder, and no worker runs in the test process, so the test can run
// the production worker in a process of its own (child-worker.ts) and SIGKILL it. For the escape
// tests, whose workspaces must find the server's files and ports real and out of reach.
import path from 'node:path';
import type { Logger } from '../../lib/logger';
import { ensureTemporalCli } from '../../devstack/temporal-cli';
import { startTemporalDevServer, type TemporalDevServer } from '../../devstack/temporal-server';
import { SEARCH_ATTRIBUTES } from '../../workflows/contracts';
import { startTestStack, type TestStack } from './stack';
import type { ChildWorker } from './child-worker';

const REPO = path.resolve(__dirname, '..', '..');

export async function startDataFolderStack(dataDir: string, log: Logger): Promise<{ temporal: TemporalDevServer; stack: TestStack }> {
  const temporal = await startTemporalDevServer({
    cliPath: await ensureTemporalCli({ toolsDir: path.join(REPO, '.tools'), log }),
    dbFile: path.join(dataDir, 'temporal.db'),
    searchAttributes: SEARCH_ATTRIBUTES,
    logFile: path.join(dataDir, 'temporal.log'),
    log,
  });
  try {
    const stack = await startTestStack({
      worker: false,
      env: { TEMPORAL_ADDRESS: temporal.address, TASKD_DATA_DIR: dataDir, TASKD_WORKSPACE_STOP_GRACE_MS: '8000' },
    });
    return { temporal, stack };
  } catch (err) {
    await temporal.stop();
    throw err;
  }
}

/** The server's own ports that a workspace must not reach: real, and listening on the host's loopback. */
export function serverPorts(temporal: TemporalDevServer, stack: TestStack, worker: ChildWorker) {
  return {
    temporalGrpc: Number(temporal.address.split(':').at(-1)),
    temporalUi: Number(new URL(temporal.uiUrl!).port),
    postgres: Number(new URL(process.env.TASKD_TEST_PG_URL!).port),
    workerHealth: worker.healthPort,
    api: Number(new URL(stack.baseUrl).port),
  };
}
