import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';

// Replaying recorded task histories: the check that a workflow change stays deterministic.

export const RECORDED_HISTORIES = path.join(__dirname, '..', 'workflows', 'histories');

export type ReplayHistory = { workflowId: string; history: ReturnType<typeof historyFromJSON> };

/** The histories recorded in test/workflows/histories, named by their file. */
export function recordedHistories(): ReplayHistory[] {
  const files = fs.existsSync(RECORDED_HISTORIES) ? fs.readdirSync(RECORDED_HISTORIES).filter((f) => f.endsWith('.json')).sort() : [];
  return files.map((f) => ({
    workflowId: f.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(RECORDED_HISTORIES, f), 'utf8'))),
  }));
}

/** Replays every history with `options`, failing with each one that did not replay. */
export async function assertReplays(options: ReplayWorkerOptions, histories: ReplayHistory[]): Promise<void> {
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(options, histories)) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.equal(replayed, histories.length);
  assert.deepEqual(failures, []);
}
