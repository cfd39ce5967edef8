// The send queue (POST send ?queue=true, beyond Coder) on the real stack: the process driver runs
// the built-in AgentAPI agent, which thinks for a while after each input, so inputs queued while it
// works wait for its next idle report; the task's workflow delivers them in order, exactly once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate, setupOwner } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import { stopAllWorkspaces } from '../../provisioner/process';
import { AgentApiClient } from '../../agent/agentapi-client';
import { startFixtureWorker } from '../helpers/child-worker';
import { openEventStream } from '../helpers/event-stream';
import type { ChildProcess } from 'node:child_process';

let stack: TestStack;
let token: string;
let versionId: string;

const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'builtin-agent-template.json'), 'utf8'));
const REPLY_END = 'What would you like next?';

before(async () => {
  stack = await startTestStack({ env: { TASKD_WORKSPACE_STOP_GRACE_MS: '4000' } });
  const owner = await setupOwner(stack);
  token = owner.token;
  // long enough a think that inputs queued right after one are queued while the agent works
  const workspace = { ...example.workspace, env: { ...example.workspace.env, TASKD_AGENT_THINK_MS: '1500', TASKD_AGENT_SETTLE_MS: '100' } };
  const { version } = await createAiTemplate(stack, token, owner.org.id, { name: 'builtin', workspace });
  versionId = version.id;
});
const children = new Set<ChildProcess>();
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  if (stack) await stopAllWorkspaces({ dataDir: stack.config.dataDir, log: stack.log, stopGraceMs: 2_000 });
  await stack?.close();
});

type Log = { id: number; type: 'input' | 'output'; content: string };
type Queued = { id: string; input: string; state: string; created_at: string };

const get = (p: string) => stack.api('GET', `/api/v2/tasks/me/${p}`, { token });
const post = (p: string, body?: unknown, headers?: Record<string, string>) => stack.api('POST', `/api/v2/tasks/me/${p}`, { token, body, headers });
const queue = (id: string, input: string, opts: { key?: string; resume?: boolean } = {}) =>
  post(`${id}/send?queue=true${opts.resume ? '&resume=true' : ''}`, { input }, opts.key ? { 'Idempotency-Key': opts.key } : undefined);
const until = (id: string, want: string, timeoutMs = 20_000) =>
  waitFor(async () => (await get(id)).body.status === want, { what: `task ${want}`, timeoutMs });
const inputs = async (id: string) => ((await get(`${id}/logs`)).body.logs as Log[]).filter((e) => e.type === 'input').map((e) => e.content);
const openQueue = async (id: string) => (await get(`${id}/queued-inputs`)).body.queued_inputs as Queued[];
/** every input answered in full and nothing left in the queue */
const drained = (id: string, last: string, timeoutMs = 30_000) =>
  waitFor(
    async () => {
      const l = (await get(`${id}/logs`)).body.logs as Log[];
      const at = l.findIndex((e) => e.type === 'input' && e.content === last);
      return at >= 0 && l[at + 1]?.content.endsWith(REPLY_END) && (await openQueue(id)).length === 0 ? l : null;
    },
    { what: `"${last}" delivered and answered`, timeoutMs },
  );
const rows = (sql: string, params: unknown[]) => stack.orm.em.fork().getConnection().execute<Record<string, unknown>[]>(sql, params);

async function activeTask(prompt: string): Promise<string> {
  const created = await stack.api('POST', '/api/v2/tasks/me', { token, body: { template_version_id: versionId, input: prompt } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id: string = created.body.id;
  await until(id, 'active');
  await drained(id, prompt);
  return id;
}

describe('send queue', () => {
  let id: string;
  before(async () => {
    id = await activeTask('Start a story');
  });

  test('inputs queued while the agent works are delivered in order, each exactly once, each after the previous reply', async () => {
    // the app settles a moment after its reply: the plain form is taken once it is stable
    await waitFor(async () => (await post(`${id}/send`, { input: 'First chapter' })).status === 204, { what: 'plain send taken' });
    // the plain form still refuses input while the app works, as Coder does
    const busy = await post(`${id}/send`, { input: 'too soon' });
    assert.equal(busy.status, 502, JSON.stringify(busy.body));
    assert.equal(busy.body.message, 'Task app is not ready to accept input.');

    const texts = ['Second chapter', 'Third chapter', 'Epilogue'];
    const answers = [];
    for (const t of texts) answers.push(await queue(id, t));
    for (const [i, a] of answers.entries()) {
      assert.equal(a.status, 202, JSON.stringify(a.body));
      assert.equal(a.body.input, texts[i]);
      assert.equal(a.body.state, 'queued');
    }
    const task = (await get(id)).body;
    assert.ok(Array.isArray(task.queued_inputs) && task.queued_inputs.length >= 1, JSON.stringify(task.queued_inputs));
    assert.deepEqual(
      task.queued_inputs.map((q: Queued) => q.id),
      answers.map((a) => a.body.id).slice(answers.length - task.queued_inputs.length),
      'the open queue, oldest first',
    );

    const l = await drained(id, 'Epilogue');
    const all = l.filter((e) => e.type === 'input').map((e) => e.content);
    assert.deepEqual(all, ['Start a story', 'First chapter', ...texts], 'in order, each once');
    // each queued input went in only after the reply to the one before it was complete
    for (const t of texts) {
      const at = l.findIndex((e) => e.type === 'input' && e.content === t);
      assert.ok(l[at - 1]!.type === 'output' && l[at - 1]!.content.endsWith(REPLY_END), `"${t}" followed a finished reply`);
    }
    const states = await rows('select state from task_queued_inputs where task_id = ? order by seq', [id]);
    assert.deepEqual(states.map((r) => r.state), ['delivered', 'delivered', 'delivered']);
  });

  test('an idempotency key makes a retried queue request return the first input, never a second one', async () => {
    const a = await queue(id, 'Once only', { key: 'retry-1' });
    const b = await queue(id, 'Once only', { key: 'retry-1' });
    assert.equal(a.status, 202);
    assert.equal(b.status, 202);
    assert.equal(b.body.id, a.body.id);
    const other = await queue(id, 'Something else', { key: 'retry-1' });
    assert.equal(other.status, 409, JSON.stringify(other.body));
    assert.equal(other.body.message, 'Idempotency key already used.');
    await drained(id, 'Once only');
    assert.equal((await inputs(id)).filter((t) => t === 'Once only').length, 1);
  });

  test('Prefer: respond-async queues too; bad input and bad ids are 4xx in the error envelope', async () => {
    const preferred = await post(`${id}/send`, { input: 'Preferred' }, { Prefer: 'respond-async' });
    assert.equal(preferred.status, 202, JSON.stringify(preferred.body));
    await drained(id, 'Preferred');
    const empty = await queue(id, '');
    assert.equal(empty.status, 400);
    assert.equal(empty.body.message, 'Task input is required.');
    const badFlag = await post(`${id}/send?queue=yes`, { input: 'x' });
    assert.equal(badFlag.status, 400, JSON.stringify(badFlag.body));
    assert.equal(typeof badFlag.body.message, 'string');
    const badId = await stack.api('DELETE', `/api/v2/tasks/me/${id}/queued-inputs/not-a-uuid`, { token });
    assert.equal(badId.status, 400);
    const unknown = await stack.api('DELETE', `/api/v2/tasks/me/${id}/queued-inputs/00000000-0000-4000-8000-000000000000`, { token });
    assert.equal(unknown.status, 404);
  });

  test('a paused task keeps queued inputs until resumed; one can be cancelled; resume=true resumes and delivers', async () => {
    assert.equal((await post(`${id}/pause`)).status, 202);
    await until(id, 'paused');
    const watch = await openEventStream(`${stack.baseUrl}/api/v2/tasks/me/${id}/watch`, token);
    const kept = await queue(id, 'While paused');
    // a watch stream sends the task again with its queue, as GET shows it
    await watch.next((e) => e.event === 'task' && e.data.queued_inputs?.some((q: Queued) => q.input === 'While paused'), { what: 'the queue on the watch' });
    watch.close();
    const dropped = await queue(id, 'Never mind');
    assert.equal(kept.status, 202);
    const stored = (await get(`${id}/logs`)).body;
    assert.equal(stored.snapshot, true);
    assert.deepEqual(stored.queued.map((q: Queued) => [q.input, q.state]), [['While paused', 'queued'], ['Never mind', 'queued']], 'the logs show what waits');
    const cancel = await stack.api('DELETE', `/api/v2/tasks/me/${id}/queued-inputs/${dropped.body.id}`, { token });
    assert.equal(cancel.status, 204, JSON.stringify(cancel.body));
    const again = await stack.api('DELETE', `/api/v2/tasks/me/${id}/queued-inputs/${dropped.body.id}`, { token });
    assert.equal(again.status, 204, 'cancelling twice answers the same');
    assert.deepEqual((await openQueue(id)).map((q) => q.input), ['While paused']);
    assert.equal((await get(id)).body.status, 'paused', 'queueing alone does not resume');

    const resumed = await queue(id, 'After resume', { resume: true });
    assert.equal(resumed.status, 202, JSON.stringify(resumed.body));
    await until(id, 'active');
    await drained(id, 'After resume');
    const all = await inputs(id);
    assert.equal(all.filter((t) => t === 'While paused').length, 1);
    assert.equal(all.filter((t) => t === 'After resume').length, 1);
    assert.ok(all.indexOf('While paused') < all.indexOf('After resume'));
    assert.ok(!all.includes('Never mind'), 'the cancelled input was never sent');
    const delivered = await stack.api('DELETE', `/api/v2/tasks/me/${id}/queued-inputs/${kept.body.id}`, { token });
    assert.equal(delivered.status, 409);
    assert.equal(delivered.body.message, 'The input was delivered already.');
  });

  test('queued inputs wait out a stopped worker and are delivered once it is back', async () => {
    const restart = await stack.stopWorker();
    try {
      assert.equal((await queue(id, 'No worker yet')).status, 202);
    } finally {
      await restart();
    }
    await drained(id, 'No worker yet');
    assert.equal((await inputs(id)).filter((t) => t === 'No worker yet').length, 1);
  });

  test('a worker SIGKILLed after a delivery, before its history records it: the next worker delivers the rest, nothing twice', async () => {
    const restart = await stack.stopWorker();
    try {
      const holding = await startFixtureWorker(stack, children, { TASKD_TEST_HOLD_AFTER: 'deliverQueuedInput' });
      assert.equal((await queue(id, 'Delivered, then killed')).status, 202);
      assert.equal((await queue(id, 'After the kill')).status, 202);
      await holding.said('held-after:deliverQueuedInput');
      holding.kill('SIGKILL');
      await new Promise((r) => holding.once('exit', r));
    } finally {
      await restart();
    }
    // the workflow runs its local activity again on the new worker: it finds the first delivered
    await drained(id, 'After the kill', 60_000);
    const all = await inputs(id);
    assert.equal(all.filter((t) => t === 'Delivered, then killed').length, 1);
    assert.equal(all.filter((t) => t === 'After the kill').length, 1);
    assert.ok(all.indexOf('Delivered, then killed') < all.indexOf('After the kill'));
  });

  test('a delivery cut short after the app took the input is finished without sending it again, and one cut short before is sent once', async () => {
    // the two points a killed worker can leave a row in `delivering`: the app has the input, or not
    const appUrl = (await rows('select app.url from tasks_with_status t join workspace_apps app on app.id = t.workspace_app_id where t.id = ?', [id]))[0]!
      .url as string;
    const app = new AgentApiClient(appUrl);
    await waitFor(async () => (await app.getStatus()).status === 'stable', { what: 'app stable' });
    const before = Math.max(...(await app.getMessages()).map((m) => m.id));
    await app.postMessage('Sent before the crash', 'user');
    const wentIn = await queue(id, 'Sent before the crash');
    const notIn = await queue(id, 'Not sent before the crash');
    // what a worker killed between "delivering" and "delivered" (first) and right after "delivering" (second) leaves
    await rows(`update task_queued_inputs set state = 'delivering', last_message_id = ? where id in (?, ?)`, [before, wentIn.body.id, notIn.body.id]);
    await drained(id, 'Not sent before the crash');
    const all = await inputs(id);
    assert.equal(all.filter((t) => t === 'Sent before the crash').length, 1, 'not sent a second time');
    assert.equal(all.filter((t) => t === 'Not sent before the crash').length, 1, 'sent once');
  });

  test('deleting the task cancels what is still queued', async () => {
    assert.equal((await post(`${id}/pause`)).status, 202);
    await until(id, 'paused');
    const q = await queue(id, 'Left behind');
    assert.equal((await stack.api('DELETE', `/api/v2/tasks/me/${id}`, { token })).status, 202);
    await waitFor(async () => (await get(id)).status === 404, { what: 'task gone' });
    const state = await waitFor(async () => {
      const r = await rows('select state from task_queued_inputs where id = ?', [q.body.id]);
      return r[0]!.state === 'cancelled' ? r[0]!.state : null;
    }, { what: 'queued input cancelled' });
    assert.equal(state, 'cancelled');
  });
});
