// The benchmarks' code paths with a tiny N, so a change that breaks a benchmark script fails here
// rather than on the day someone wants figures. No timing is asserted: figures belong in
// bench/RESULTS.md. One stack (API + worker child processes on the run's PostgreSQL and Temporal)
// serves all four; each benchmark works as its own user.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startBenchStack, type BenchStack } from '../../bench/lib/stack';
import { runReadPath } from '../../bench/read-path';
import { runOrchestration } from '../../bench/orchestration';
import { runThroughput } from '../../bench/throughput';
import { runListScale } from '../../bench/list-scale';
import { runSandboxStart } from '../../bench/sandbox-start';

let stack: BenchStack;

before(async () => {
  const postgresUrl = process.env.TASKD_TEST_PG_URL;
  const temporalAddress = process.env.TASKD_TEST_TEMPORAL_ADDRESS;
  assert.ok(postgresUrl && temporalAddress, 'run through `npm test -- test/bench/smoke.test.ts` (test/run.ts)');
  stack = await startBenchStack({ postgresUrl, temporalAddress });
});

after(async () => {
  await stack?.stop();
});

test('read path: both servers answer the same rows under load, in every scenario', async () => {
  const r = await runReadPath({ stack, tasks: 20, durationS: 1, rounds: 1, warmupS: 0, connections: 2 });
  for (const scenario of Object.values(r.median)) {
    assert.ok(scenario.taskd.requests > 0, 'taskd answered');
    assert.ok(scenario.baseline.requests > 0, 'the baseline answered');
  }
  assert.equal(Object.keys(r.throughputRatio).length, 3);
});

test('orchestration: taskd tasks and baseline workflows both reach their end state', async () => {
  const r = await runOrchestration({ stack, tasks: 2, block: 1, warmup: 0 });
  assert.equal(r.taskd.n, 2);
  assert.equal(r.baseline.n, 2);
});

test('throughput: whole lifecycles complete, with per-phase figures and CPU per process', async () => {
  const r = await runThroughput({ stack, levels: [2], min: 2 });
  const [level] = r.levels;
  assert.deepEqual(level!.failures, []);
  assert.equal(level!.completed, 2);
  for (const phase of Object.values(level!.phases)) assert.equal(phase.n, 2);
  assert.ok(level!.usage.cpuS.api !== null && level!.usage.cpuS.worker !== null);
  // Linux's /proc/stat is read for the CPU the host took (a VM's steal time): never negative
  assert.ok(typeof level!.usage.stolenS === 'number' && level!.usage.stolenS >= 0, String(level!.usage.stolenS));
});

test('list scale: pages by limit, cursor and offset at growing sizes', async () => {
  const r = await runListScale({ stack, sizes: [10, 30], requests: 2, rounds: 1, full: 1 });
  assert.deepEqual(r.sizes.map((s) => s.tasks), [10, 30]);
});

test('sandbox start: a workspace starts, answers on the host and stops in both modes', async () => {
  const r = await runSandboxStart(1);
  for (const mode of ['bubblewrap', 'none'] as const) {
    assert.equal(r.start[mode].samples.length, 1, mode);
    assert.equal(r.stop[mode].samples.length, 1, mode);
  }
});
