// When traces are on (OTEL_EXPORTER_OTLP_ENDPOINT names a collector, README: Metrics and traces), and
// that without one the API and the worker load no part of OpenTelemetry's SDK or Temporal's tracing
// interceptors: tracing that is off costs nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTracing, tracingConfigured, workflowTracingModules } from '../../lib/tracing';
import { createLogger } from '../../lib/logger';

const ENDPOINT = 'http://otel-collector:4318';

test('traces are on only when a collector is named, and not when the SDK is told to stay off', () => {
  assert.equal(tracingConfigured({}), false);
  assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }), true);
  assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${ENDPOINT}/v1/traces` }), true);
  assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SDK_DISABLED: 'true' }), false);
  assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_TRACES_EXPORTER: 'none' }), false);
});

test('without a collector: no tracer provider, no workflow interceptor in the bundle, no SDK module loaded', async () => {
  for (const v of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) delete process.env[v];
  // the API's and the worker's entries and everything they import
  await import('../../api/server');
  await import('../../worker');
  assert.equal(await startTracing('taskd-test', createLogger('silent')), null);
  assert.deepEqual(workflowTracingModules(), []);
  const loaded = Object.keys(require.cache).filter((file) => /[\\/]@opentelemetry[\\/](sdk-|exporter-|resources|otlp-)|interceptors-opentelemetry/.test(file));
  assert.deepEqual(loaded, []);
});
