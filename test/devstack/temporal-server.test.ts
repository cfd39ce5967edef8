import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { freePort } from '../../devstack/free-port';
import { groupAlive } from '../../devstack/processes';
import { ensureTemporalCli } from '../../devstack/temporal-cli';
import { SearchAttributeConflictError, startTemporalDevServer } from '../../devstack/temporal-server';
import { scrapeTemporalCounts } from '../../bench/lib/temporal-metrics';
import { waitFor } from '../helpers/wait';

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

/** Starts a workflow (no worker needed) carrying `key` = `value`, and resolves once visibility lists it by that value. */
async function startListedBy(address: string, namespace: string, key: string, value: string | number): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace });
    const attribute =
      typeof value === 'number'
        ? { key: defineSearchAttributeKey(key, SearchAttributeType.INT), value }
        : { key: defineSearchAttributeKey(key, SearchAttributeType.KEYWORD), value };
    const workflowId = `listed-${key}-${value}`;
    await client.workflow.start('nobodyRunsThis', { taskQueue: 'nobody-polls', workflowId, typedSearchAttributes: [attribute] });
    const query = `${key} = ${typeof value === 'number' ? value : `'${value}'`}`;
    // Visibility is written a moment after the start; a service that did not know the attribute yet
    // would fail that write until its registry reloads (every 2 to 10 s, by server version).
    await waitFor(async () => (await client.workflow.count(query)).count === 1, { timeoutMs: 5_000, what: `a workflow listed by ${query}` });
    await client.workflow.getHandle(workflowId).terminate();
  } finally {
    await connection.close();
  }
}

test('search attributes are read from the caches, not from the database on every use', async () => {
  const metricsPort = await freePort();
  const server = await startTemporalDevServer({
    cliPath,
    dbFile: path.join(scratch, 'cached.sqlite'),
    uiPort: null,
    metricsPort,
    searchAttributes: { TaskdCached: 'Keyword' },
    log: quiet,
  });
  try {
    const reads = async () => {
      const { persistence } = await scrapeTemporalCounts(`http://127.0.0.1:${metricsPort}/metrics`);
      return (persistence.GetNamespace ?? 0) + (persistence.GetCurrentClusterMetadata ?? 0);
    };
    const before = await reads();
    const workflows = 20;
    for (let i = 0; i < workflows; i++) await startListedBy(server.address, 'default', 'TaskdCached', `w${i}`);
    // start-dev's default (caches off) reads both each time an attribute is validated, mapped or
    // written to visibility: 8 or more a workflow here; with the caches on, each service's first load
    // and the periodic reloads, whatever the number of workflows
    const extra = (await reads()) - before;
    assert.ok(extra < 2 * workflows, `${workflows} workflows with a search attribute cost ${extra} namespace and cluster-metadata reads`);
  } finally {
    await server.stop();
  }
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
    // the server is ready only once every service can use the added attribute
    await startListedBy(second.address, 'default', 'TaskdB', 7);
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
