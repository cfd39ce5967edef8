import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { findPostgresProcesses } from '../../devstack/postgres';
import { groupAlive, runCommand } from '../../devstack/processes';

const TOOLS_DIR = path.resolve(__dirname, '../../.tools');
const FIXTURE = path.join(__dirname, 'fixtures', 'start-then-exit.ts');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-exit-test-'));
fs.chmodSync(scratch, 0o711);
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

const endings = { exit: 'process.exit()', throw: 'an uncaught error', signal: 'SIGTERM without a handler' } as const;

for (const how of Object.keys(endings) as (keyof typeof endings)[]) {
  test(`servers stop when the launcher ends by ${endings[how]}`, async () => {
    const dataDir = path.join(scratch, `data-${how}`);
    const child = await runCommand(process.execPath, ['--import', 'tsx', FIXTURE, TOOLS_DIR, dataDir, how], {
      timeoutMs: 60_000,
    });
    if (how === 'signal') assert.equal(child.signal, 'SIGTERM', 'the default signal behaviour is kept');
    else assert.equal(child.code, how === 'exit' ? 0 : 1, child.stderr);
    const { temporalPid, postgresPid } = JSON.parse(child.stdout) as { temporalPid: number; postgresPid: number };

    assert.ok(await waitUntil(() => !groupAlive(temporalPid), 15_000), 'Temporal outlived its launcher');
    assert.ok(
      await waitUntil(() => !groupAlive(postgresPid) && findPostgresProcesses(dataDir).length === 0, 15_000),
      'PostgreSQL outlived its launcher',
    );
    assert.ok(!fs.existsSync(path.join(dataDir, 'postmaster.pid')), 'PostgreSQL shut down cleanly');
  });
}
