// Coder's own Go SDK (codersdk at the version compat/coder/go.mod pins) against taskd: the driver
// compat/coder/sdkcheck runs every task call and error case, the workspace and template calls the
// CLI builds on, and a strict field check of every answer, through a proxy that records each
// route it calls. Each of its checks is a test here; known-gaps.ts lists the ones failing today.
import { after, before, test } from 'node:test';
import { spawn } from 'node:child_process';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createLogger } from '../../lib/logger';
import { CODER_VERSION, ensureSdkCheck } from '../../compat/coder/binaries';
import { COMPAT_STACK_ENV, compatWorld, stopCompatWorkspaces, type CompatWorld } from './compat-world';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy';
import { ratchet, routeChecks, type CheckResult } from './ratchet';
import { SDK_GAPS } from './known-gaps';

let stack: TestStack;
let proxy: RecordingProxy;
let world: CompatWorld;
let driver: string;

before(async () => {
  [driver, stack] = await Promise.all([
    ensureSdkCheck({ log: createLogger('warn', 'coder-compat') }).then((b) => b.path),
    startTestStack({ env: COMPAT_STACK_ENV }),
  ]);
  proxy = await startRecordingProxy(stack.baseUrl);
  world = await compatWorld(stack, proxy.url);
});
after(async () => {
  await proxy?.close();
  await stopCompatWorkspaces(stack);
  await stack?.close();
});

function runDriver(config: CompatWorld): Promise<{ results: CheckResult[]; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(driver, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const results = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as CheckResult);
      resolve({ results, stderr, code });
    });
    child.stdin.end(JSON.stringify(config));
  });
}

test(`Coder ${CODER_VERSION} SDK against taskd`, async (t) => {
  const run = await runDriver(world);
  if (run.code !== 0) throw new Error(`the driver exited ${run.code}: ${run.stderr}`);
  for (const r of run.results) if (r.ok && r.detail) t.diagnostic(`${r.name}: ${r.detail}`);
  await ratchet(t, [...run.results, ...routeChecks(proxy.calls)], SDK_GAPS, 'SDK_GAPS');
});
