// What Prometheus reads from taskd after a real task lifecycle (create, pause, resume, delete) run by
// an API process and a worker process of their own: the API's request latencies by route pattern on
// TASKD_METRICS_ADDR, and the worker's task transitions, settle durations, notification outbox and
// Temporal SDK metrics on its health port; and that the Grafana dashboard in deploy/ queries those.
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate, setupOwner } from '../helpers/fixtures';
import { startChildApi, startChildWorker, type ChildApi, type ChildWorker } from '../helpers/child-worker';
import { scrape, type Scrape } from '../helpers/prometheus';
import { waitFor } from '../helpers/wait';
import { freePort } from '../../devstack/free-port';
import { fork, sql } from '../../db/sql';

let stack: TestStack;
let api: ChildApi;
let worker: ChildWorker;
let metricsUrl: string;
let ownerId: string;
let task: { id: string; name: string };
let apiScrape: Scrape;
let workerScrape: Scrape;

const call = (method: string, path: string, token?: string, body?: unknown) => api.call(method, path, token, body);

before(async () => {
  stack = await startTestStack({ worker: false });
  const owner = await setupOwner(stack);
  ownerId = owner.user.id;
  const { version } = await createAiTemplate(stack, owner.token, owner.org.id);
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  [api, worker] = await Promise.all([
    startChildApi(stack, { TASKD_METRICS_ADDR: `127.0.0.1:${metricsPort}` }),
    startChildWorker(stack),
  ]);

  const status = async () => (await call('GET', `/api/v2/tasks/me/${task.id}`, owner.token)).body.status;
  const until = (want: string) => waitFor(async () => (await status()) === want, { what: `task ${want}`, timeoutMs: 60_000, intervalMs: 100 });
  const created = await call('POST', '/api/v2/tasks/me', owner.token, { template_version_id: version.id, input: 'count the files' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  task = created.body;
  await until('active');
  assert.equal((await call('POST', `/api/v2/tasks/me/${task.name}/pause`, owner.token)).status, 202);
  await until('paused');
  assert.equal((await call('POST', `/api/v2/tasks/me/${task.name}/resume`, owner.token)).status, 202);
  await until('active');
  assert.equal((await call('DELETE', `/api/v2/tasks/me/${task.id}`, owner.token)).status, 202);
  await waitFor(async () => (await call('GET', `/api/v2/tasks/me/${task.id}`, owner.token)).status === 404, { what: 'task gone', timeoutMs: 60_000 });
  // requests no route serves, and one refused before its handler
  assert.equal((await call('GET', `/api/v2/no-such-thing/${task.id}`, owner.token)).status, 404);
  assert.equal((await call('GET', `/api/v2/tasks/me/${task.id}`)).status, 401);

  apiScrape = await scrape(metricsUrl);
  const workerUrl = `http://127.0.0.1:${worker.healthPort}/metrics`;
  // the delete build's metrics come from the workflow's last task, the SDK's completed-workflow count
  // from the workflow's end (after the task's rows are gone), notifications from the outbox's next poll
  workerScrape = await waitFor(
    async () => {
      const s = await scrape(workerUrl);
      const done = s.sum('taskd_task_transitions_total', { transition: 'delete' }) === 1 && s.sum('temporal_workflow_completed_total') >= 1;
      return done && s.sum('taskd_notification_deliveries_total', { outcome: 'sent' }) >= 2 ? s : null;
    },
    { what: 'the lifecycle in the worker metrics', timeoutMs: 30_000, intervalMs: 250 },
  );
});

after(async () => {
  await Promise.all([api?.kill(), worker?.kill()]);
  await stack?.close();
});

describe('API /metrics (TASKD_METRICS_ADDR)', () => {
  test('latency by method, route pattern and status: one series per route, never a path with ids', () => {
    const count = (method: string, route: string, status: string) =>
      apiScrape.sum('taskd_http_request_duration_seconds_count', { method, route, status });
    assert.equal(count('POST', '/api/v2/tasks/:user', '201'), 1);
    assert.equal(count('POST', '/api/v2/tasks/:user/:task/pause', '202'), 1);
    assert.equal(count('POST', '/api/v2/tasks/:user/:task/resume', '202'), 1);
    assert.equal(count('DELETE', '/api/v2/tasks/:user/:task', '202'), 1);
    assert.ok(count('GET', '/api/v2/tasks/:user/:task', '200') >= 3, 'the status polls');
    assert.ok(count('GET', '/api/v2/tasks/:user/:task', '404') >= 1, 'the poll after the delete');
    // refused by the authentication middleware: counted for the route it guarded
    assert.equal(count('GET', '/api/v2/tasks/:user/:task', '401'), 1);
    assert.equal(count('GET', 'unmatched', '404'), 1);
    const buckets = apiScrape.find('taskd_http_request_duration_seconds_bucket', { route: '/api/v2/tasks/:user', status: '201' });
    assert.ok(buckets.length > 5 && buckets.some((b) => b.labels.le === '+Inf' && b.value === 1));
    const values = apiScrape.samples.flatMap((s) => Object.values(s.labels));
    assert.ok(!values.some((v) => v.includes(task.id) || v.includes(task.name)), 'no label holds a task id or name');
  });

  test("the process's own metrics are there, and only /metrics is served on that address", async () => {
    assert.ok(apiScrape.sum('process_cpu_seconds_total') > 0);
    assert.ok(apiScrape.families.includes('nodejs_eventloop_lag_seconds'));
    assert.equal((await fetch(metricsUrl.replace('/metrics', '/readyz'))).status, 404);
    // the public port does not serve them
    assert.equal((await fetch(`${api.baseUrl}/metrics`)).status, 404);
  });
});

describe('worker /metrics (health port)', () => {
  test('task transitions by transition, reason and outcome', () => {
    const t = (labels: Record<string, string>) => workerScrape.sum('taskd_task_transitions_total', labels);
    assert.equal(t({ transition: 'start', reason: 'initiator', outcome: 'succeeded' }), 1);
    assert.equal(t({ transition: 'stop', reason: 'task_manual_pause', outcome: 'succeeded' }), 1);
    assert.equal(t({ transition: 'start', reason: 'task_resume', outcome: 'succeeded' }), 1);
    assert.equal(t({ transition: 'delete', reason: 'Deleted via tasks API', outcome: 'succeeded' }), 1);
    assert.equal(t({ outcome: 'failed' }), 0);
  });

  test('settle durations of the create and of the resume', () => {
    for (const kind of ['create', 'resume']) {
      assert.equal(workerScrape.sum('taskd_task_settle_seconds_count', { kind, status: 'active' }), 1, kind);
      const seconds = workerScrape.sum('taskd_task_settle_seconds_sum', { kind, status: 'active' });
      assert.ok(seconds > 0 && seconds < 60, `${kind}: ${seconds}`);
    }
  });

  test('notification outbox: deliveries, their lag, and the backlog', () => {
    const sent = workerScrape.sum('taskd_notification_deliveries_total', { outcome: 'sent' });
    assert.equal(workerScrape.sum('taskd_notification_delivery_lag_seconds_count', { outcome: 'sent' }), sent);
    assert.equal(workerScrape.sum('taskd_notification_outbox_pending'), 0);
    assert.equal(workerScrape.sum('taskd_notification_outbox_lag_seconds'), 0);
  });

  test('a notification the outbox cannot deliver yet shows as backlog, aged from when it was enqueued', async () => {
    // due only in an hour, as a row waiting for its next retry is
    await sql(
      fork(stack.orm),
      `insert into notification_messages (id, template_id, user_id, labels, dedupe_key, status, attempts, created_at, next_attempt_at)
       values (gen_random_uuid(), gen_random_uuid(), ?, '{}', 'metrics-test-backlog', 'pending', 3, now() - interval '90 seconds', now() + interval '1 hour')`,
      [ownerId],
    );
    const s = await scrape(`http://127.0.0.1:${worker.healthPort}/metrics`);
    assert.equal(s.sum('taskd_notification_outbox_pending'), 1);
    const lag = s.sum('taskd_notification_outbox_lag_seconds');
    assert.ok(lag >= 90 && lag < 3600, `lag ${lag}`);
  });

  test("the Temporal SDK's worker metrics are merged in, for this worker's task queue", () => {
    const queue = stack.config.temporal.taskQueue;
    // the provisioner call is the one activity task per build; the database writes are local activities
    const activities = workerScrape.find('temporal_activity_execution_latency_seconds_count', { task_queue: queue });
    assert.ok(activities.some((s) => s.labels.activity_type === 'provisionWorkspace' && s.value >= 4), JSON.stringify(activities));
    const local = workerScrape.find('temporal_local_activity_execution_latency_seconds_count', { task_queue: queue });
    assert.ok(local.some((s) => s.labels.activity_type === 'completeBuild' && s.value >= 4), JSON.stringify(local));
    assert.ok(workerScrape.sum('temporal_workflow_task_execution_latency_seconds_count', { task_queue: queue }) > 0);
    assert.ok(workerScrape.find('temporal_worker_task_slots_available', { task_queue: queue }).length > 0);
    assert.ok(workerScrape.sum('process_cpu_seconds_total') > 0);
    const repeated = workerScrape.families.filter((f, i) => workerScrape.families.indexOf(f) !== i);
    assert.deepEqual(repeated, [], 'a family declared twice');
  });
});

describe('Grafana dashboard (deploy/grafana-dashboard.json)', () => {
  type Panel = { type: string; title: string; panels?: Panel[]; targets?: { expr: string; legendFormat?: string }[] };
  const dashboard = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'deploy', 'grafana-dashboard.json'), 'utf8'));
  const panels: Panel[] = (dashboard.panels as Panel[]).flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
  /** a name a Prometheus client gives a family (taskd's, the Temporal SDK's, Node's process metrics) */
  const METRIC = /\b(?:taskd|temporal|process|nodejs)_\w+/g;
  /** labels Prometheus adds to every sample it scrapes */
  const TARGET_LABELS = ['job', 'instance'];
  const queries = (): { where: string; expr: string; legendFormat?: string }[] => [
    ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, ...t }))),
    ...dashboard.templating.list.filter((v: { type: string }) => v.type === 'query').map((v: { name: string; definition: string }) => ({ where: `$${v.name}`, expr: v.definition })),
  ];

  test('every metric it queries is one the API or the worker exports, with the labels it selects and groups by', () => {
    const scrapes = [apiScrape, workerScrape];
    const families = new Set(scrapes.flatMap((s) => s.families));
    const known = (name: string) => families.has(name) || families.has(name.replace(/_(bucket|sum|count)$/, ''));
    const labelsOf = (names: string[]) =>
      new Set([...TARGET_LABELS, 'le', ...scrapes.flatMap((s) => s.samples.filter((x) => names.includes(x.name)).flatMap((x) => Object.keys(x.labels)))]);
    const problems: string[] = [];
    for (const q of queries()) {
      const names = [...new Set(q.expr.match(METRIC) ?? [])];
      if (names.length === 0) problems.push(`${q.where}: queries no metric: ${q.expr}`);
      for (const n of names) if (!known(n)) problems.push(`${q.where}: ${n} is not exported`);
      const labels = labelsOf(names);
      const used = [
        ...[...q.expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1].split(',').map((l) => l.trim())),
        ...[...q.expr.matchAll(/(\w+)\s*(?:=~|!~|!=|=)\s*"/g)].map((m) => m[1]),
        ...[...(q.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]),
      ];
      for (const l of used) if (!labels.has(l)) problems.push(`${q.where}: no sample of ${names.join(', ')} has the label ${l}`);
    }
    assert.deepEqual(problems, []);
  });

  test("it shows every one of taskd's families, and the Temporal SDK's worker metrics", () => {
    const queried = new Set(queries().flatMap((q) => q.expr.match(METRIC) ?? []).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    const taskd = [...new Set([...apiScrape.families, ...workerScrape.families])].filter((f) => f.startsWith('taskd_'));
    assert.ok(taskd.length >= 7);
    assert.deepEqual(taskd.filter((f) => !queried.has(f)), []);
    for (const f of ['temporal_workflow_task_schedule_to_start_latency_seconds', 'temporal_activity_execution_latency_seconds', 'temporal_worker_task_slots_available']) {
      assert.ok(queried.has(f), f);
    }
    assert.equal(new Set(panels.map((p) => p.title)).size, panels.length, 'panel titles are distinct');
    assert.ok(panels.every((p) => (p.targets ?? []).length > 0));
  });
});
