// Issue 6, "Chaos run", the CI-sized version of bench/chaos/run.ts: 8 tasks through whole
// lifecycles while the worker is SIGKILLed three times and Temporal and PostgreSQL are restarted
// once each. It starts its own PostgreSQL, Temporal, API and worker processes (it must restart
// them), not the ones test/run.ts shares. CHAOS_SEED=<n> replays a fault schedule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChaos } from '../../bench/chaos/scenario';
import { formatReport } from '../../bench/chaos/report';

const verbose = process.env.CHAOS_VERBOSE === '1';
const log = {
  info: (msg: string) => {
    if (verbose) process.stderr.write(`${msg}\n`);
  },
  warn: (msg: string) => process.stderr.write(`warn: ${msg}\n`),
  error: (msg: string) => process.stderr.write(`error: ${msg}\n`),
};

test('8 lifecycles survive three worker kills, a Temporal restart and a PostgreSQL restart', { timeout: 240_000 }, async () => {
  const report = await runChaos({
    tasks: 8,
    seed: Number(process.env.CHAOS_SEED ?? 6),
    spreadMs: 8_000,
    faultWindowMs: 20_000,
    downMs: 2_500,
    settleMs: 45_000,
    log,
  });
  console.log(formatReport(report));
  const failed = report.checks.filter((c) => !c.ok);
  assert.deepEqual(failed, [], failed.map((c) => `${c.name}: ${c.detail}`).join('\n'));
});
