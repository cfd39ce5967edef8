import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { groupAlive } from '../../devstack/processes';
import { ensureTemporalCli } from '../../devstack/temporal-cli';
import { SearchAttributeConflictError, startTemporalDevServer } from '../../devstack/temporal-server';

const TOOLS_DIR = path.resolve(__dirname, '../../.tools');
const quiet = { info() {}, warn() {}, error() {} };
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-temporal-test-'));
let cliPath = '';

before(async () => {
  cliPath = await ensureTemporalCli({ toolsDir: TOOLS_DIR, log: quiet });
});
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

async function customAttributes(address: string, namespace: string): Promise<Record<string, number>> {
  const connection = await Connection.connect({ address });
  try {
    const res = await connection.operatorService.listSearchAttributes({ namespace });
    return Object.fromEntries(Object.entries(res.customAttributes ?? {}).map(([k, v]) => [k, Number(v)]));
  } finally {
    await connection.close();
  }
}

test('in-memory dev server: search attributes, UI, clean stop of the whole group', async () => {
  const server = await startTemporalDevServer({
    cliPath,
    port: 0,
    namespace: 'taskd-test',
    searchAttributes: { TaskdTestState: 'Keyword', TaskdTestOwner: 'Text' },
    logFile: path.join(scratch, 'in-memory.log'),
    log: quiet,
  });
  try {
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    const attrs = await customAttributes(server.address, 'taskd-test');
    assert.equal(attrs.TaskdTestState, 2, 'Keyword');
    assert.equal(attrs.TaskdTestOwner, 1, 'Text');
    assert.ok(server.uiUrl, 'UI enabled by default');
    const ui = await fetch(server.uiUrl);
    assert.equal(ui.status, 200);
    await ui.arrayBuffer();
  } finally {
    await server.stop();
  }
  assert.equal(groupAlive(server.pid), false, 'process group must be gone after stop()');
  await server.stop(); // idempotent
});

test('persistent SQLite: a restart registers new search attributes and rejects a changed type', async () => {
  const dbFile = path.join(scratch, 'nested', 'temporal.sqlite');
  const common = { cliPath, dbFile, uiPort: null, log: quiet } as const;

  const first = await startTemporalDevServer({ ...common, searchAttributes: { TaskdA: 'Keyword' } });
  assert.equal(first.uiUrl, null);
  await first.stop();
  assert.ok(fs.existsSync(dbFile));
  // SQLite's header, bytes 18 and 19 (write and read format): 2 is a write-ahead log, 1 the rollback journal
  const header = fs.readFileSync(dbFile).subarray(18, 20);
  assert.deepEqual([...header], [2, 2], 'the file is kept in WAL mode (one fsync a commit, as durable)');

  const second = await startTemporalDevServer({ ...common, searchAttributes: { TaskdA: 'Keyword', TaskdB: 'Int' } });
  try {
    const attrs = await customAttributes(second.address, 'default');
    assert.equal(attrs.TaskdA, 2);
    assert.equal(attrs.TaskdB, 3, 'start-dev alone skips attributes added after the db was created');
  } finally {
    await second.stop();
  }

  await assert.rejects(
    startTemporalDevServer({ ...common, searchAttributes: { TaskdA: 'Int' } }),
    (err: Error) => err instanceof SearchAttributeConflictError && /TaskdA is registered as Keyword/.test(err.message),
  );
});

test('a fixed port that is taken is refused before spawning', async () => {
  const squatter = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const port = (squatter.address() as net.AddressInfo).port;
  try {
    await assert.rejects(
      startTemporalDevServer({ cliPath, port, uiPort: null, log: quiet }),
      new RegExp(`Temporal gRPC port: 127\\.0\\.0\\.1:${port} is already in use`),
    );
  } finally {
    squatter.close();
  }
});

test('a server that dies during startup fails fast with its output', async () => {
  await assert.rejects(
    // A folder where the SQLite file should be: start-dev exits at once. Waiting out readyTimeoutMs
    // instead would end in "did not become usable in time", after ten minutes.
    startTemporalDevServer({ cliPath, dbFile: scratch, uiPort: null, readyTimeoutMs: 600_000, log: quiet }),
    /Temporal dev server exited during startup \(exit code \d+\)\. Last output:\n.+/,
  );
});
