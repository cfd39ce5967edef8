// taskd on a real Temporal server on PostgreSQL — Temporal's own temporal-server v1.32 (frontend,
// history, matching and worker services), its schema set up by temporal-sql-tool in two databases of
// the run's PostgreSQL — not the dev server. The server binaries are built once per machine
// (scripts/ensure-temporal-server.ts, which CI runs first); a cold build here would take minutes.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../lib/logger';
import { ensureTemporalServer, startTemporalCluster, TEMPORAL_SERVER_VERSION, type TemporalCluster } from '../../devstack/temporal-cluster';
import { SEARCH_ATTRIBUTES, taskWorkflowId } from '../../workflows/contracts';
import { startTestStack, type TestStack } from '../helpers/stack';
import { taskWorld, type TaskWorld } from '../helpers/task-world';
import { waitFor } from '../helpers/wait';

let cluster: TemporalCluster;
let stack: TestStack;
let world: TaskWorld;

before(async () => {
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'temporal-cluster');
  const binaries = await ensureTemporalServer({ log });
  cluster = await startTemporalCluster({
    binaries,
    postgresUrl: process.env.TASKD_TEST_PG_URL!,
    searchAttributes: SEARCH_ATTRIBUTES,
    logFile: path.join(process.env.TASKD_TEST_WORK_DIR!, `temporal-cluster-${process.pid}.log`),
    log,
  });
  stack = await startTestStack({ env: { TEMPORAL_ADDRESS: cluster.address } });
  world = await taskWorld(stack);
});

after(async () => {
  await stack?.close();
  await cluster?.stop();
});

/** A query on one of Temporal's databases (same server as the run's, another database). */
async function temporalDb<T extends pg.QueryResultRow>(database: string, sql: string, params: unknown[]): Promise<T[]> {
  const url = new URL(process.env.TASKD_TEST_PG_URL!);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

test('the engine is Temporal server v1.32 with PostgreSQL for history and visibility', async () => {
  const info = await stack.temporal.connection.workflowService.getClusterInfo({});
  assert.equal(info.serverVersion, TEMPORAL_SERVER_VERSION);
  assert.equal(info.persistenceStore, 'postgres12');
  assert.equal(info.visibilityStore, 'postgres12');
});

test("a task's whole life runs on it; its workflow lives in Temporal's PostgreSQL databases", async () => {
  const alice = world.alice;
  const created = await stack.api('POST', '/api/v2/tasks/me', {
    token: alice.token,
    body: { template_version_id: world.version.id, input: 'on the real engine' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id: string = created.body.id;
  const statusIs = (s: string) => async () => (await stack.api('GET', `/api/v2/tasks/me/${id}`, { token: alice.token })).body.status === s;
  await waitFor(statusIs('active'), { what: 'task active', timeoutMs: 60_000 });

  // the search attributes the workflow sets are queryable through SQL visibility
  const found = await waitFor(
    async () => {
      const list = [];
      for await (const wf of stack.temporal.workflow.list({ query: `TaskId = '${id}' AND TaskStatus = 'active'` })) list.push(wf.workflowId);
      return list.length > 0 ? list : null;
    },
    { what: 'the workflow in visibility', timeoutMs: 30_000, intervalMs: 250 },
  );
  assert.deepEqual(found, [taskWorkflowId(id)]);

  for (const [action, status] of [['pause', 'paused'], ['resume', 'active']] as const) {
    const res = await stack.api('POST', `/api/v2/tasks/me/${id}/${action}`, { token: alice.token });
    assert.equal(res.status, 202, `${action}: ${JSON.stringify(res.body)}`);
    await waitFor(statusIs(status), { what: `task ${status}`, timeoutMs: 60_000 });
  }
  const deleted = await stack.api('DELETE', `/api/v2/tasks/me/${id}`, { token: alice.token });
  assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
  await waitFor(async () => (await stack.api('GET', `/api/v2/tasks/me/${id}`, { token: alice.token })).status === 404, {
    what: 'task gone',
    timeoutMs: 60_000,
  });

  // the history is Temporal's rows in its own database, not a file of the dev server's
  const current = await temporalDb<{ workflow_id: string }>(
    cluster.database,
    'select workflow_id from current_executions where workflow_id = $1',
    [taskWorkflowId(id)],
  );
  assert.equal(current.length, 1);
  const history = await stack.temporal.workflow.getHandle(taskWorkflowId(id)).fetchHistory();
  const updates = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
  assert.ok(updates >= 3, `pause, resume and delete are updates in the history (saw ${updates})`);
});
