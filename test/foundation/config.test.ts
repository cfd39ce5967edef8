import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../lib/config';

test('defaults make the one-command start work with nothing set', () => {
  const c = loadConfig({}, '/srv/taskd');
  assert.equal(c.http.host, '127.0.0.1');
  assert.equal(c.http.port, 3000);
  assert.equal(c.dataDir, path.join('/srv/taskd', '.data'));
  assert.equal(c.database.url, undefined);
  assert.equal(c.temporal.address, undefined);
  assert.equal(c.temporal.uiPort, 8233);
  assert.equal(c.temporal.taskQueue, 'taskd');
});

test('TASKD_DATA_DIR, PORT and external services are honoured', () => {
  const c = loadConfig(
    { TASKD_DATA_DIR: 'state', PORT: '4100', DATABASE_URL: 'postgres://u@db:5432/x', TEMPORAL_ADDRESS: 'temporal:7233' },
    '/srv',
  );
  assert.equal(c.dataDir, '/srv/state');
  assert.equal(c.http.port, 4100);
  assert.equal(c.database.url, 'postgres://u@db:5432/x');
  assert.equal(c.temporal.address, 'temporal:7233');
});

test('a bad value stops start-up with a message naming the variable', () => {
  for (const [name, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['TEMPORAL_ADDRESS', 'http://temporal'],
    ['LOG_LEVEL', 'loud'],
    ['TASKD_METRICS_ADDR', '9464'],
    ['TASKD_METRICS_ADDR', 'http://0.0.0.0:9464'],
    ['TASKD_METRICS_ADDR', '0.0.0.0:99999'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
  ] as const) {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (err: unknown) => err instanceof ConfigError && err.message.includes(name) && err.issues[0]!.variable === name,
      `${name}=${value}`,
    );
  }
});

test('empty variables count as unset', () => {
  assert.equal(loadConfig({ PORT: '', DATABASE_URL: '' }).http.port, 3000);
});

test('metrics are off and traces not exported unless their variables are set', () => {
  const off = loadConfig({});
  assert.equal(off.metrics.address, undefined);
  assert.equal(off.tracing.enabled, false);
  assert.deepEqual(loadConfig({ TASKD_METRICS_ADDR: '0.0.0.0:9464' }).metrics.address, { host: '0.0.0.0', port: 9464 });
  assert.deepEqual(loadConfig({ TASKD_METRICS_ADDR: '[::1]:9464' }).metrics.address, { host: '::1', port: 9464 });
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing.enabled, true);
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }).tracing.enabled, true);
});
