// One create's trace, as a collector receives it over OTLP from an API process and a worker process
// of their own: the API's HTTP server span, the Temporal client's update-with-start span under it,
// the workflow's run and update spans under that (made in the workflow sandbox, exported by the
// worker through a sink), and each activity's schedule and execution spans, all in one trace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate, setupOwner } from '../helpers/fixtures';
import { startChildApi, startChildWorker, type ChildApi, type ChildWorker } from '../helpers/child-worker';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import { waitFor } from '../helpers/wait';
import { assertReplays, recordedHistories } from '../helpers/replay';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { Resource } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { workerMetrics } from '../../worker/metrics';
import { installTemporalRuntime } from '../../worker/temporal-runtime';
import { TASK_WORKFLOW_TYPE } from '../../workflows/contracts';

const SERVER = 2;

let stack: TestStack;
let api: ChildApi;
let worker: ChildWorker;
let receiver: OtlpReceiver;
let task: { id: string; name: string };

const call = (method: string, path: string, token?: string, body?: unknown) => api.call(method, path, token, body);

const named = (name: string) => receiver.spans.filter((s) => s.name === name);
const childrenOf = (parent: ReceivedSpan) => receiver.spans.filter((s) => s.traceId === parent.traceId && s.parentSpanId === parent.spanId);
const one = (spans: ReceivedSpan[], what: string) => {
  assert.equal(spans.length, 1, `${what}: ${JSON.stringify(spans.map((s) => s.name))}`);
  return spans[0];
};

before(async () => {
  receiver = await startOtlpReceiver();
  stack = await startTestStack({ worker: false });
  // the replay workers' logs go to the test's logger, warnings and errors only
  installTemporalRuntime(stack.log);
  const owner = await setupOwner(stack);
  const { version } = await createAiTemplate(stack, owner.token, owner.org.id);
  // a short batch delay, so spans reach the receiver soon after they end
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' };
  [api, worker] = await Promise.all([startChildApi(stack, otel), startChildWorker(stack, otel)]);

  const created = await call('POST', '/api/v2/tasks/me', owner.token, { template_version_id: version.id, input: 'count the files' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  task = created.body;
  await waitFor(async () => (await call('GET', `/api/v2/tasks/me/${task.id}`, owner.token)).body.status === 'active', {
    what: 'task active',
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  // the workflow's run span ends with the workflow: when the task is deleted
  assert.equal((await call('DELETE', `/api/v2/tasks/me/${task.id}`, owner.token)).status, 202);
  await waitFor(() => named(`RunWorkflow:${TASK_WORKFLOW_TYPE}`).length > 0, {
    what: 'the workflow run span',
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  // the API exports on its own schedule: on a loaded machine its delete span can come after the worker's
  await waitFor(() => named('DELETE /api/v2/tasks/:user/:task').length > 0, { what: 'the delete request span', timeoutMs: 30_000, intervalMs: 100 });
});

after(async () => {
  await Promise.all([api?.kill(), worker?.kill()]);
  await stack?.close();
  await receiver?.close();
});

describe('OpenTelemetry traces (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  test('a create: HTTP span → update-with-start → workflow run → each activity, one trace', () => {
    assert.deepEqual(receiver.errors, []);
    const http = one(named('POST /api/v2/tasks/:user'), 'the create request');
    assert.equal(http.service, 'taskd-api');
    assert.equal(http.kind, SERVER);
    assert.equal(http.parentSpanId, '');
    assert.equal(http.attributes['http.route'], '/api/v2/tasks/:user');
    assert.equal(http.attributes['http.request.method'], 'POST');
    assert.equal(http.attributes['http.response.status_code'], 201);

    const start = one(childrenOf(http), 'the Temporal client call under the request');
    assert.match(start.name, /^UpdateWithStartWorkflow:/);
    assert.equal(start.service, 'taskd-api');
    assert.equal(start.attributes.temporalWorkflowId, `task-${task.id}`);

    const run = one(named(`RunWorkflow:${TASK_WORKFLOW_TYPE}`), 'the workflow run');
    assert.equal(run.service, 'taskd-worker');
    assert.equal(run.traceId, http.traceId);
    assert.equal(run.parentSpanId, start.spanId);
    // the update that created the task ran in the workflow too, under the same client call
    const update = childrenOf(start).filter((s) => s.name.startsWith('HandleUpdate:'));
    assert.equal(update.length, 1, JSON.stringify(childrenOf(start).map((s) => s.name)));

    // every activity the create's build ran (local ones too): scheduled by the workflow, executed by a worker
    const scheduled = childrenOf(run).filter((s) => s.name.startsWith('StartActivity:'));
    const types = new Set(scheduled.map((s) => s.name.slice('StartActivity:'.length)));
    for (const type of ['createTaskAndBeginBuild', 'provisionWorkspace', 'completeBuild']) {
      assert.ok(types.has(type), `${type} scheduled under the run: ${[...types].join(', ')}`);
    }
    for (const s of scheduled) {
      const runs = childrenOf(s).filter((c) => c.name === `RunActivity:${s.name.slice('StartActivity:'.length)}`);
      assert.equal(runs.length, 1, `${s.name} executed once under its schedule span`);
      assert.equal(runs[0].service, 'taskd-worker');
      assert.equal(runs[0].attributes.temporalWorkflowId, `task-${task.id}`);
    }
  });

  test('other requests are spans of their own trace, named by route, never by id', () => {
    const del = one(named('DELETE /api/v2/tasks/:user/:task'), 'the delete request');
    const http = one(named('POST /api/v2/tasks/:user'), 'the create request');
    assert.notEqual(del.traceId, http.traceId);
    const updates = receiver.spans.filter((s) => s.traceId === del.traceId && s.name.startsWith('HandleUpdate:'));
    assert.equal(updates.length, 1, 'the delete update ran in the workflow, in the request trace');
    assert.ok(named('GET /api/v2/tasks/:user/:task').length >= 1, 'the status polls');
    const leaked = receiver.spans.filter((s) => s.name.includes(task.id) || s.name.includes(task.name));
    assert.deepEqual(leaked.map((s) => s.name), []);
  });
});

describe('workflow replay with the tracing interceptors', () => {
  test("a traced task's history, and the ones recorded untraced, replay with tracing on and off", async () => {
    const traced = { workflowId: `task-${task.id}`, history: await stack.temporal.workflow.getHandle(`task-${task.id}`).fetchHistory() };
    const recorded = recordedHistories();
    assert.ok(recorded.length >= 4);
    // tracing off: the test run's bundle, which has no tracing interceptors
    await assertReplays({ sinks: workerMetrics().sinks(), workflowBundle: { codePath: process.env.TASKD_TEST_WORKFLOW_BUNDLE! } }, [traced, ...recorded]);
    // tracing on: a bundle with the workflow interceptors, and their sink (a replay exports nothing)
    const exported = new InMemorySpanExporter();
    await assertReplays(
      {
        workflowsPath: require.resolve('../../workflows'),
        interceptors: { workflowModules: [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')] },
        sinks: { ...workerMetrics().sinks(), exporter: makeWorkflowExporter(new SimpleSpanProcessor(exported), Resource.default()) },
      },
      [traced, ...recorded],
    );
    assert.deepEqual(exported.getFinishedSpans().map((s) => s.name), []);
  });
});
