// Where a benchmark's raw figures are written: the committed file by default, a variant's own file
// for the in-memory Temporal store, and the file a comparison script names with BENCH_RESULTS_FILE.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { resultsFile } from '../../bench/lib/report';

const RESULTS = path.resolve(__dirname, '..', '..', 'bench', 'results');

test('by default a run replaces its committed figures; a variant keeps its own file', () => {
  assert.equal(resultsFile('throughput', '', {}), path.join(RESULTS, 'throughput.json'));
  assert.equal(resultsFile('throughput', '-floor', {}), path.join(RESULTS, 'throughput-floor.json'));
  assert.equal(resultsFile('throughput', '', { BENCH_TEMPORAL_DB: 'memory' }), path.join(RESULTS, 'throughput-temporal-memory.json'));
});

test('BENCH_RESULTS_FILE names the file, whatever the variant, so a script comparing runs copies nothing', () => {
  const named = path.join('/tmp', 'compare', 'after-r1.json');
  assert.equal(resultsFile('throughput', '-floor', { BENCH_RESULTS_FILE: named, BENCH_TEMPORAL_DB: 'memory' }), named);
  assert.equal(resultsFile('read-path', '', { BENCH_RESULTS_FILE: 'runs/x.json' }), path.resolve('runs/x.json'));
});
