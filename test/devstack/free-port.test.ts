import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { freePort, waitForPort } from '../../devstack/free-port';

test('freePort returns a port that can be bound right away', async () => {
  const port = await freePort();
  assert.ok(port > 0 && port < 65536);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  server.close();
});

test('waitForPort resolves once something listens, even if it starts late', async () => {
  const port = await freePort();
  const server = net.createServer((s) => s.destroy());
  setTimeout(() => server.listen(port, '127.0.0.1'), 150);
  try {
    await waitForPort('127.0.0.1', port, 5_000);
  } finally {
    server.close();
  }
});

test('waitForPort rejects after its timeout, and early when aborted', async () => {
  const port = await freePort();
  await assert.rejects(waitForPort('127.0.0.1', port, 300), /Timed out after 300 ms/);

  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('server died')), 100);
  await assert.rejects(waitForPort('127.0.0.1', port, 30_000, { signal: controller.signal }), /server died/);
});
