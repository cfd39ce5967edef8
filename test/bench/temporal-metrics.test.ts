// The throughput report's Temporal columns come from the dev server's Prometheus page: the parser
// must keep the frontend's requests apart from the other services', sum persistence calls over
// services, read the size histograms' sums, and turn two pages into per-lifecycle figures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countsPerLifecycle, parseTemporalCounts } from '../../bench/lib/temporal-metrics';

const page = (n: number) => `
# HELP service_requests service_requests counter
# TYPE service_requests counter
service_requests{namespace="default",operation="RespondWorkflowTaskCompleted",service_name="frontend"} ${10 * n}
service_requests{namespace="default",operation="RecordWorkflowTaskStarted",service_name="history"} ${99 * n}
service_requests{namespace="default",operation="PollWorkflowTaskQueue",service_name="frontend"} 7
persistence_requests{namespace="default",operation="UpdateWorkflowExecution",service_name="history"} ${4 * n}
persistence_requests{namespace="default",operation="UpdateWorkflowExecution",service_name="matching"} ${n}
mutable_state_size_sum{namespace="default",operation="UpdateWorkflowExecution"} ${1000 * n}
mutable_state_size_count{namespace="default",operation="UpdateWorkflowExecution"} ${n}
memory_gc_pause_ms_sum{} 123
`;

test("parses the frontend's requests, the persistence calls of every service and the size histograms' sums", () => {
  const c = parseTemporalCounts(page(1));
  assert.deepEqual(c.frontend, { RespondWorkflowTaskCompleted: 10, PollWorkflowTaskQueue: 7 });
  assert.deepEqual(c.persistence, { UpdateWorkflowExecution: 5 });
  assert.deepEqual(c.bytes, { mutable_state_size: 1000 });
});

test('per lifecycle: the difference of two pages over the lifecycles, operations that did not move left out, largest first', () => {
  const d = countsPerLifecycle(parseTemporalCounts(page(1)), parseTemporalCounts(page(3)), 4);
  assert.deepEqual(d.frontend, { RespondWorkflowTaskCompleted: 5 });
  assert.deepEqual(d.persistence, { UpdateWorkflowExecution: 2.5 });
  assert.deepEqual(d.bytes, { mutable_state_size: 500 });
  assert.deepEqual(Object.keys(countsPerLifecycle(parseTemporalCounts(page(1)), parseTemporalCounts(page(1)), 4).frontend), []);
});
