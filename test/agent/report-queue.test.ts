import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReportQueue } from '../../agent/report-queue';
import { TaskdCallError } from '../../agent/taskd-client';
import { createLogger } from '../../lib/logger';

const log = createLogger('silent');
const away = () => new TaskdCallError('connect ECONNREFUSED', null, true);

test('while the server is away, the latest report of each kind is kept and sent once it returns', async () => {
  let serverUp = false;
  const sent: string[] = [];
  const send = (kind: string) => async (payload: unknown) => {
    if (!serverUp) throw away();
    sent.push(`${kind}:${JSON.stringify(payload)}`);
  };
  const q = new ReportQueue({ log, minDelayMs: 5, maxDelayMs: 20 });
  q.put('lifecycle', 'starting', send('lifecycle'));
  q.put('app-status', 'working', send('app-status'));
  q.put('lifecycle', 'ready', send('lifecycle'));
  q.put('health', { a: 'initializing' }, send('health'), (o, n) => ({ ...o, ...n }));
  q.put('health', { b: 'healthy' }, send('health'), (o, n) => ({ ...o, ...n }));
  q.put('app-status', 'idle', send('app-status'));
  assert.equal(await q.flush(100), false, 'nothing can be sent yet');
  serverUp = true;
  assert.equal(await q.flush(2_000), true);
  // kinds keep the order they were first queued in; each carries its newest payload
  assert.deepEqual(sent, ['lifecycle:"ready"', 'app-status:"idle"', 'health:{"a":"initializing","b":"healthy"}']);
});

test('a report the server rejects is dropped, a 401 is announced, and later reports still go out', async () => {
  let unauthorized = 0;
  const sent: string[] = [];
  const q = new ReportQueue({ log, minDelayMs: 5, onUnauthorized: () => unauthorized++ });
  q.put('bad', 1, async () => {
    throw new TaskdCallError('HTTP 400', 400, false);
  });
  q.put('gone', 1, async () => {
    throw new TaskdCallError('HTTP 401', 401, false);
  });
  q.put('good', 1, async () => {
    sent.push('good');
  });
  assert.equal(await q.flush(1_000), true);
  assert.deepEqual(sent, ['good']);
  assert.equal(unauthorized, 1);
});

test('a newer report queued while an older one is failing replaces it (merging where asked)', async () => {
  const sent: unknown[] = [];
  let attempts = 0;
  const q = new ReportQueue({ log, minDelayMs: 20 });
  const send = async (payload: Record<string, string>) => {
    attempts += 1;
    if (attempts === 1) {
      q.put('health', { b: 'unhealthy' }, send, (o, n) => ({ ...o, ...n }));
      throw away();
    }
    sent.push(payload);
  };
  q.put('health', { a: 'healthy', b: 'healthy' }, send, (o, n) => ({ ...o, ...n }));
  assert.equal(await q.flush(1_000), true);
  assert.deepEqual(sent, [{ a: 'healthy', b: 'unhealthy' }]);
});
