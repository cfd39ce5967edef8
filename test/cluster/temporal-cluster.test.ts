// taskd on a real Temporal server on PostgreSQL — Temporal's own temporal-server v1.32 (frontend,
// history, matching and worker services), its schema set up by temporal-sql-tool in two databases of
// the run's PostgreSQL — not the dev server. The server binaries are built once per machine
// (scripts/ensure-temporal-server.ts, which CI runs first); a cold build here would take minutes.
//
// On it, several hosts as production spreads taskd: two API processes on their own ports and two
// worker processes with distinct host ids and data folders (so per-host task queues), one PostgreSQL
// database, one Temporal. The test's own in-process API only seeds users and templates.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createLogger } from '../../lib/logger';
import { ensureTemporalServer, startTemporalCluster, TEMPORAL_SERVER_VERSION, type TemporalCluster } from '../../devstack/temporal-cluster';
import { SEARCH_ATTRIBUTES, taskWorkflowId } from '../../workflows/contracts';
import { stopAllWorkspaces } from '../../provisioner/process';
import { startChildApi, startChildWorker, type ChildApi, type ChildWorker } from '../helpers/child-worker';
import { openEventStream } from '../helpers/event-stream';
import { createAiTemplate, createUserWithToken } from '../helpers/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';
import { sql } from '../helpers/task-rows';
import { taskWorld, type Person, type TaskWorld } from '../helpers/task-world';
import { waitFor } from '../helpers/wait';
import { runRecord, stillRunning, workspaceProcesses } from '../helpers/workspace-processes';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'temporal-cluster');
let cluster: TemporalCluster;
let stack: TestStack;
let world: TaskWorld;
let api1: ChildApi;
let api2: ChildApi;
/** the two worker hosts: each its own host id and data folder, sharing the agent-token key */
const hosts = {
  a: { id: 'host-a', dataDir: '', worker: undefined as ChildWorker | undefined },
  b: { id: 'host-b', dataDir: '', worker: undefined as ChildWorker | undefined },
};
const secretKey = randomBytes(32).toString('hex');

function startHost(host: (typeof hosts)['a'], accessUrl: string): Promise<ChildWorker> {
  return startChildWorker(stack, {
    TASKD_HOST_ID: host.id,
    TASKD_DATA_DIR: host.dataDir,
    TASKD_SECRET_KEY: secretKey,
    TASKD_ACCESS_URL: accessUrl,
    TASKD_WORKSPACE_STOP_GRACE_MS: '1000',
  });
}

before(async () => {
  const binaries = await ensureTemporalServer({ log });
  cluster = await startTemporalCluster({
    binaries,
    postgresUrl: process.env.TASKD_TEST_PG_URL!,
    searchAttributes: SEARCH_ATTRIBUTES,
    logFile: path.join(process.env.TASKD_TEST_WORK_DIR!, `temporal-cluster-${process.pid}.log`),
    log,
  });
  stack = await startTestStack({ env: { TEMPORAL_ADDRESS: cluster.address, TASKD_SECRET_KEY: secretKey }, worker: false });
  world = await taskWorld(stack);
  for (const host of Object.values(hosts)) {
    host.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `taskd-${host.id}-`));
    // sandboxed workspaces run as users of their own, who must be able to reach their folders in it
    fs.chmodSync(host.dataDir, 0o711);
  }
  [api1, api2] = await Promise.all([startChildApi(stack, { TASKD_SECRET_KEY: secretKey }), startChildApi(stack, { TASKD_SECRET_KEY: secretKey })]);
  hosts.a.worker = await startHost(hosts.a, api1.baseUrl);
  hosts.b.worker = await startHost(hosts.b, api2.baseUrl);
});

after(async () => {
  for (const host of Object.values(hosts)) await host.worker?.kill();
  await Promise.all([api1?.kill(), api2?.kill()]);
  for (const host of Object.values(hosts)) {
    if (!host.dataDir) continue;
    await stopAllWorkspaces({ dataDir: host.dataDir, log, stopGraceMs: 2_000 });
    fs.rmSync(host.dataDir, { recursive: true, force: true });
  }
  await stack?.close();
  await cluster?.stop();
});

interface Reply {
  status: number;
  body: any;
}

/** A call to one of the API processes. */
async function call(api: ChildApi, who: Person, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(api.baseUrl + p, {
    method,
    headers: { 'Coder-Session-Token': who.token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
}

const statusOf = async (api: ChildApi, who: Person, id: string) => (await call(api, who, 'GET', `/api/v2/tasks/me/${id}`)).body.status;
const until = (api: ChildApi, who: Person, id: string, status: string) =>
  waitFor(async () => (await statusOf(api, who, id)) === status, { what: `task ${id} ${status}`, timeoutMs: 90_000, intervalMs: 250 });

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
  const created = await call(api1, alice, 'POST', '/api/v2/tasks/me', { template_version_id: world.version.id, input: 'on the real engine' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id: string = created.body.id;
  await until(api1, alice, id, 'active');

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
    const res = await call(api1, alice, 'POST', `/api/v2/tasks/me/${id}/${action}`);
    assert.equal(res.status, 202, `${action}: ${JSON.stringify(res.body)}`);
    await until(api1, alice, id, status);
  }
  const deleted = await call(api1, alice, 'DELETE', `/api/v2/tasks/me/${id}`);
  assert.equal(deleted.status, 202, JSON.stringify(deleted.body));
  await waitFor(async () => (await call(api1, alice, 'GET', `/api/v2/tasks/me/${id}`)).status === 404, { what: 'task gone', timeoutMs: 60_000 });

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

describe('several hosts: two API processes, two workers', () => {
  test('a task created through API 1 is watched live through API 2', async () => {
    const bob = world.bob;
    const list = await openEventStream(`${api2.baseUrl}/api/v2/tasks/watch`, bob.token);
    assert.equal(list.status, 200);
    await list.next((e) => e.event === 'tasks', { what: 'the initial list' });
    const created = await call(api1, bob, 'POST', '/api/v2/tasks/me', { template_version_id: world.version.id, input: 'seen elsewhere' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id: string = created.body.id;
    await list.next((e) => e.event === 'tasks' && e.data.tasks.some((t: { id: string }) => t.id === id), {
      what: 'the new task in API 2’s list',
      timeoutMs: 60_000,
    });
    const watch = await openEventStream(`${api2.baseUrl}/api/v2/tasks/me/${id}/watch`, bob.token);
    const isTask = (status: string) => (e: { event: string; data: any }) => e.event === 'task' && e.data.status === status;
    const active = await watch.next(isTask('active'), { what: 'active on API 2', timeoutMs: 90_000 });
    assert.equal((await call(api1, bob, 'POST', `/api/v2/tasks/me/${id}/pause`)).status, 202);
    await watch.next(isTask('paused'), { what: 'paused on API 2', timeoutMs: 90_000, from: watch.events.indexOf(active) + 1 });
    list.close();
    watch.close();
  });

  test('a host’s worker SIGKILLed while it holds a workspace: new work goes to the other host, its own builds wait for it, nothing is lost or doubled', async () => {
    const alice = world.alice;
    const BUILTIN_AGENT = 'exec node --import "$TASKD_TSX" "$TASKD_ROOT/agent/builtin-agent-main.ts"';
    const { version } = await createAiTemplate(stack, world.owner.token, world.org.id, {
      workspace: {
        provisioner: 'process',
        env: { TASKD_AGENT_THINK_MS: '20', TASKD_AGENT_SETTLE_MS: '100' },
        apps: [{ slug: 'agent', command: BUILTIN_AGENT, healthcheck: { path: '/status', interval_s: 1, threshold: 60 } }],
        ai_task: { app: 'agent' },
      },
    });
    const create = async (api: ChildApi, input: string) => {
      // A create sent just after the SIGKILL may have its first workflow task handed to the dead
      // worker's last poll; the task is then created once that task times out, after the API has
      // answered 503 "try again shortly". A client retries with the same Idempotency-Key and gets
      // the one task (README) — as here; "nothing doubled" is asserted below.
      const key = `create-${input}`;
      let res: Reply;
      let retries = 0;
      do {
        res = await call(api, alice, 'POST', '/api/v2/tasks/me', { template_version_id: version.id, input }, { 'Idempotency-Key': key });
      } while (res.status === 503 && retries++ < 3);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      await until(api, alice, res.body.id, 'active');
      const [ws] = await sql<{ host_id: string }>(stack, 'select host_id from workspaces where id = ?', [res.body.workspace_id]);
      return { id: res.body.id as string, workspaceId: res.body.workspace_id as string, hostId: ws!.host_id };
    };
    const first = await create(api1, 'before the crash');
    const victim = first.hostId === hosts.a.id ? hosts.a : hosts.b;
    const survivor = victim === hosts.a ? hosts.b : hosts.a;
    assert.ok([hosts.a.id, hosts.b.id].includes(first.hostId), `built on one of the two hosts (${first.hostId})`);
    const supervisor = runRecord(victim.dataDir, first.workspaceId)!;
    assert.ok(supervisor, 'the workspace runs on its host');

    await victim.worker!.kill();
    victim.worker = undefined;
    assert.ok(stillRunning(workspaceProcesses(victim.dataDir, first.workspaceId)).length > 0, 'the workspace outlives its worker');

    // new work: the surviving host takes it (the task queue is shared; the dead host polls no more)
    const second = await create(api2, 'after the crash');
    assert.equal(second.hostId, survivor.id);

    // the dead host's workspace: its pause is accepted and waits on that host's queue
    const pauseFirst = await call(api2, alice, 'POST', `/api/v2/tasks/me/${first.id}/pause`);
    assert.equal(pauseFirst.status, 202, JSON.stringify(pauseFirst.body));
    // meanwhile the surviving host serves its own workspace's builds
    assert.equal((await call(api1, alice, 'POST', `/api/v2/tasks/me/${second.id}/pause`)).status, 202);
    await until(api1, alice, second.id, 'paused');
    assert.notEqual(await statusOf(api1, alice, first.id), 'paused');
    const [waiting] = await sql<{ job_status: string }>(stack, 'select job_status from workspace_builds where id = ?', [pauseFirst.body.workspace_build.id]);
    assert.ok(['pending', 'running'].includes(waiting!.job_status), `the stop build waits (${waiting!.job_status})`);
    assert.ok(stillRunning(workspaceProcesses(victim.dataDir, first.workspaceId)).length > 0, 'nobody else stopped the workspace');

    // the host comes back (same id, same data folder): the waiting build runs there
    victim.worker = await startHost(victim, victim === hosts.a ? api1.baseUrl : api2.baseUrl);
    await until(api2, alice, first.id, 'paused');
    await waitFor(() => stillRunning(workspaceProcesses(victim.dataDir, first.workspaceId)).length === 0, { what: 'the workspace stopped' });

    // resume goes back to the workspace's host
    assert.equal((await call(api1, alice, 'POST', `/api/v2/tasks/me/${first.id}/resume`)).status, 202);
    await until(api1, alice, first.id, 'active');
    assert.ok(runRecord(victim.dataDir, first.workspaceId), 'resumed on its own host');

    // nothing lost, nothing doubled: one build per transition, one provisioning per build
    for (const t of [first, second]) {
      const builds = await sql<{ build_number: number; transition: string; job_status: string }>(
        stack,
        'select build_number, transition, job_status from workspace_builds where workspace_id = ? order by build_number',
        [t.workspaceId],
      );
      const expected = t === first
        ? [[1, 'start', 'succeeded'], [2, 'stop', 'succeeded'], [3, 'start', 'succeeded']]
        : [[1, 'start', 'succeeded'], [2, 'stop', 'succeeded']];
      assert.deepEqual(builds.map((b) => [b.build_number, b.transition, b.job_status]), expected);
      const [ws] = await sql<{ host_id: string }>(stack, 'select host_id from workspaces where id = ?', [t.workspaceId]);
      assert.equal(ws!.host_id, t === first ? victim.id : survivor.id);
    }
    for (const input of ['before the crash', 'after the crash']) {
      const [n] = await sql<{ n: number }>(stack, 'select count(*)::int as n from tasks where prompt = ?', [input]);
      assert.equal(n!.n, 1, `one task for "${input}"`);
    }
    const history = await stack.temporal.workflow.getHandle(taskWorkflowId(first.id)).fetchHistory();
    const events = history.events ?? [];
    const provisions = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'provisionWorkspace');
    assert.equal(provisions.length, 3, 'start, stop and start each provisioned once');
    const queues = provisions.map((e) => e.activityTaskScheduledEventAttributes!.taskQueue!.name);
    assert.deepEqual(queues.slice(1), [`${stack.config.temporal.taskQueue}@${victim.id}`, `${stack.config.temporal.taskQueue}@${victim.id}`]);
    const completed = new Set(events.flatMap((e) => (e.activityTaskCompletedEventAttributes ? [String(e.activityTaskCompletedEventAttributes.scheduledEventId)] : [])));
    for (const p of provisions) assert.ok(completed.has(String(p.eventId)), `provisioning ${p.eventId} completed`);
    assert.equal(events.filter((e) => e.activityTaskTimedOutEventAttributes || e.activityTaskFailedEventAttributes).length, 0);
  });

  test('a revoked token is refused by both API processes, and its stream on the other one ends', async () => {
    const carol = await createUserWithToken(stack, world.owner.token, { username: 'carol' });
    for (const api of [api1, api2]) assert.equal((await call(api, carol, 'GET', '/api/v2/users/me')).status, 200);
    const stream = await openEventStream(`${api2.baseUrl}/api/v2/tasks/watch`, carol.token);
    await stream.next((e) => e.event === 'tasks', { what: 'the initial list' });

    assert.equal((await call(api1, carol, 'POST', '/api/v2/users/logout')).status, 200);
    // the process that revoked it refuses it at once; the other as soon as PostgreSQL's notification arrives
    assert.equal((await call(api1, carol, 'GET', '/api/v2/users/me')).status, 401);
    await waitFor(async () => (await call(api2, carol, 'GET', '/api/v2/users/me')).status === 401, {
      what: 'API 2 to refuse the revoked token',
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    const problem = await stream.next((e) => e.event === 'problem', { what: 'the stream refusing the revoked token', timeoutMs: 30_000 });
    assert.match(JSON.stringify(problem.data), /[Aa]uthenticat|session|token|key/);
    await stream.ended;
  });
});
