import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diedOnTakenPort, spawnServerProcess, startRetryingTakenPorts, whileAlive } from '../../devstack/processes';

// The retry around the dev stack's server starts (startPostgres, startTemporalDevServer), with real
// processes: a server that dies at startup saying its address is in use is started again; any
// other death is not. postgres.test.ts shows PostgreSQL's own message is recognised.

const quiet = { info() {}, warn() {}, error() {} };

/** Starts `node -e script` as a server that is ready once it prints a line "up" (not a word of any failure). */
async function startFake(script: string) {
  const server = await spawnServerProcess({ name: 'fake', command: process.execPath, args: ['-e', script], log: quiet, stopSignal: 'SIGTERM', stopTimeoutMs: 2_000 });
  return whileAlive(server, 'fake server', async (signal) => {
    while (!/^up$/m.test(server.outputTail())) {
      signal.throwIfAborted();
      await new Promise((r) => setTimeout(r, 20));
    }
    return server;
  });
}

// Temporal's CLI, when another process took one of the ports it picked for its services
const GO_BIND_FAILURE = `console.error('level=ERROR msg="Failed to start gRPC listener" error="listen tcp 127.0.0.1:38359: bind: address already in use"'); process.exit(2)`;

test('a server that died on a taken port is started again, and the start that works is returned', async () => {
  const scripts = [GO_BIND_FAILURE, `console.log('up'); setInterval(() => {}, 1000)`];
  const warnings: string[] = [];
  let calls = 0;
  const server = await startRetryingTakenPorts('Fake', { ...quiet, warn: (m: string) => warnings.push(m) }, () => startFake(scripts[calls++]!));
  try {
    assert.equal(calls, 2);
    assert.equal(server.hasExited(), false);
    assert.deepEqual(warnings, ['Fake could not listen on a port taken since it was picked; starting it again (attempt 2 of 3)']);
  } finally {
    await server.stop();
  }
});

test('any other death at startup is not retried', async () => {
  let calls = 0;
  await assert.rejects(
    startRetryingTakenPorts('Fake', quiet, () => {
      calls++;
      return startFake(`console.error('FATAL: data directory has wrong ownership'); process.exit(1)`);
    }),
    /fake server exited during startup \(exit code 1\)[\s\S]*wrong ownership/,
  );
  assert.equal(calls, 1);
});

test('the words alone are not enough: only a server that died at startup is retried', () => {
  assert.equal(diedOnTakenPort(new Error('Temporal gRPC port 7233 on 127.0.0.1: address already in use')), false);
  assert.equal(diedOnTakenPort('fake server exited during startup: address already in use'), false);
  assert.equal(diedOnTakenPort(new Error('fake server exited during startup (exit code 2). Last output:\nbind: address already in use')), true);
});
