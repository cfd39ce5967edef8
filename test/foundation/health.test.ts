import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import { openOrm } from '../../db/orm';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
before(async () => {
  stack = await startTestStack({ worker: false });
});
after(async () => {
  await stack?.close();
});

test('GET /healthz answers while the process is up', async () => {
  const res = await stack.api('GET', '/healthz');
  assert.equal(res.status, 200);
  assert.equal(res.body.status, 'ok');
});

test('GET /readyz is 200 when database, migrations and Temporal are all fine', async () => {
  const res = await stack.api('GET', '/readyz');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(Object.keys(res.body.checks).sort(), ['database', 'migrations', 'temporal']);
});

test('GET /readyz names Temporal when it cannot be reached', async () => {
  // no gRPC interceptors, so no retry: the SDK's retry re-sends a refused call from a timer, which
  // throws "Channel has been shut down" if it fires after the connection is closed at the file's end
  const connection = await Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500, interceptors: [] });
  const app = createApp({ ...appDeps(), temporal: new Client({ connection }) });
  const res = await app.request('/readyz');
  assert.equal(res.status, 503);
  const body = (await res.json()) as any;
  assert.match(body.message, /temporal/);
  assert.doesNotMatch(body.message, /database/);
  // closed with the file: closing now would cancel the call the timed-out check left behind
  after(() => connection.close());
});

test('GET /readyz names the migrations when the schema is behind', async () => {
  // a second, empty database on the same server: reachable, but not migrated
  const url = new URL(stack.databaseUrl);
  url.pathname = '/postgres';
  const orm = await openOrm({ url: url.toString() });
  try {
    const app = createApp({ ...appDeps(), orm });
    const res = await app.request('/readyz');
    assert.equal(res.status, 503);
    const body = (await res.json()) as any;
    assert.match(body.message, /migrations/);
    assert.equal(body.checks.database.ok, true);
  } finally {
    await orm.close();
  }
});

test('GET /readyz names the database when it is unreachable', async () => {
  const orm = await openOrm({ url: 'postgres://nobody@127.0.0.1:1/none', connect: false });
  try {
    const app = createApp({ ...appDeps(), orm });
    const res = await app.request('/readyz');
    assert.equal(res.status, 503);
    const body = (await res.json()) as any;
    assert.match(body.message, /database/);
  } finally {
    await orm.close(true).catch(() => {});
  }
});

test('unknown routes answer 404 in the Coder error envelope', async () => {
  const res = await stack.api('GET', '/api/v2/no-such-thing');
  assert.equal(res.status, 404);
  assert.equal(typeof res.body.message, 'string');
});

test('every response carries a request id, and a caller-supplied one is echoed', async () => {
  const res = await stack.api('GET', '/healthz', { headers: { 'X-Request-Id': 'abc-123' } });
  assert.equal(res.headers.get('x-request-id'), 'abc-123');
  const other = await stack.api('GET', '/healthz');
  assert.match(other.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});

function appDeps() {
  return { config: stack.config, orm: stack.orm, temporal: stack.temporal, log: stack.log };
}
