// A task that really runs, through the HTTP task API: the process driver starts the workspace agent,
// which starts the built-in AgentAPI agent of examples/builtin-agent-template.json.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate, setupOwner } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import { createProcessDriver, stopAllWorkspaces } from '../../provisioner/process';
import { workspaceDefinitionSchema } from '../../domain/workspace-definition';
import { processesIn, stillRunning, workspaceProcesses } from '../helpers/workspace-processes';

let stack: TestStack;
let token: string;
let versionId: string;

const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'builtin-agent-template.json'), 'utf8'));

before(async () => {
  stack = await startTestStack({ env: { TASKD_WORKSPACE_STOP_GRACE_MS: '8000' } });
  const owner = await setupOwner(stack);
  token = owner.token;
  const workspace = { ...example.workspace, env: { ...example.workspace.env, TASKD_AGENT_THINK_MS: '20', TASKD_AGENT_SETTLE_MS: '100' } };
  const { version } = await createAiTemplate(stack, token, owner.org.id, { name: 'builtin', workspace });
  versionId = version.id;
});
after(async () => {
  // workspaces outlive their worker by design: a failed test must not leave them running
  if (stack) await stopAllWorkspaces({ dataDir: stack.config.dataDir, log: stack.log, stopGraceMs: 2_000 });
  await stack?.close();
});

type Log = { id: number; type: 'input' | 'output'; content: string };

const get = (p: string) => stack.api('GET', `/api/v2/tasks/me/${p}`, { token });
const post = (p: string, body?: unknown) => stack.api('POST', `/api/v2/tasks/me/${p}`, { token, body });
const status = async (id: string) => (await get(id)).body.status as string;
const until = (id: string, want: string, timeoutMs = 15_000) =>
  waitFor(async () => (await status(id)) === want, { what: `task ${want}`, timeoutMs });
const logs = async (id: string) => {
  const res = await get(`${id}/logs`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as { logs: Log[]; snapshot?: boolean };
};
/**
 * Waits until the agent has answered the input `text` in full (the built-in agent's replies end
 * with a fixed question; a streaming reply is cut short) and the task reads idle.
 */
const replied = (id: string, text: string) =>
  waitFor(
    async () => {
      const task = (await get(id)).body;
      if (task.current_state?.state !== 'idle') return null;
      const l = (await logs(id)).logs;
      const at = l.findIndex((e) => e.type === 'input' && e.content === text);
      const reply = l[at + 1];
      return at >= 0 && reply?.type === 'output' && reply.content.endsWith('What would you like next?') ? l : null;
    },
    { what: `a reply to "${text}"`, timeoutMs: 15_000 },
  );

test('create → active, prompt and reply in the logs; send; pause keeps logs; resume keeps the conversation; delete cleans up', async () => {
  const created = await stack.api('POST', '/api/v2/tasks/me', {
    token,
    body: { template_version_id: versionId, input: 'Write a haiku about durable workflows' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id: string = created.body.id;
  const dir = path.join(stack.config.dataDir, 'workspaces', created.body.workspace_id);

  await until(id, 'active');
  let l = await replied(id, 'Write a haiku about durable workflows');
  assert.equal(l[0]!.type, 'output', 'the agent greets first');
  assert.ok(processesIn(dir).length >= 2, 'the agent and its app run in the workspace folder');

  const sent = await post(`${id}/send`, { input: 'Now make it rhyme' });
  assert.equal(sent.status, 204, JSON.stringify(sent.body));
  l = await replied(id, 'Now make it rhyme');

  const paused = await post(`${id}/pause`);
  assert.equal(paused.status, 202, JSON.stringify(paused.body));
  await until(id, 'paused');
  assert.deepEqual(workspaceProcesses(stack.config.dataDir, created.body.workspace_id), [], 'no process left after pause');
  const whilePaused = await logs(id);
  assert.equal(whilePaused.snapshot, true);
  assert.deepEqual(
    whilePaused.logs.map((e) => [e.type, e.content]),
    l.map((e) => [e.type, e.content]),
    'the whole conversation is readable while paused',
  );

  const resumed = await post(`${id}/resume`);
  assert.equal(resumed.status, 202, JSON.stringify(resumed.body));
  await until(id, 'active');
  const afterResume = (await logs(id)).logs;
  assert.equal(afterResume.filter((e) => e.type === 'input' && e.content === 'Write a haiku about durable workflows').length, 1, 'the prompt is not sent again');
  assert.deepEqual(afterResume.slice(0, l.length).map((e) => e.content), l.map((e) => e.content), 'the earlier conversation is intact');
  // the restored app replays its conversation to the new workspace agent: stored once, not twice.
  // "active" says the app is up, not that it is idle: right after the restore it may still be busy
  // (agentapi "running"), and send answers 502 "not ready" then — a client tries again, as here.
  const more = await waitFor(
    async () => {
      const res = await post(`${id}/send`, { input: 'One more verse' });
      return res.status === 502 && res.body?.message === 'Task app is not ready to accept input.' ? null : res;
    },
    { what: 'the restored app ready for input', timeoutMs: 15_000, intervalMs: 200 },
  );
  assert.equal(more.status, 204, JSON.stringify(more.body));
  await replied(id, 'One more verse');
  const stored = await waitFor(async () => {
    const rows = await stack.orm.em.fork().getConnection().execute<{ content: string }[]>(
      'select content from task_messages where task_id = ? order by message_id',
      [id],
    );
    return rows.length >= l.length + 2 && rows.at(-1)!.content.endsWith('What would you like next?') ? rows : null;
  }, { what: 'the new exchange stored' });
  assert.deepEqual(stored.slice(0, l.length).map((r) => r.content), l.map((e) => e.content));
  assert.equal(stored.length, l.length + 2, 'the replayed history was not stored a second time');

  const running = workspaceProcesses(stack.config.dataDir, created.body.workspace_id);
  assert.ok(running.length >= 2);
  const deleted = await stack.api('DELETE', `/api/v2/tasks/me/${id}`, { token });
  assert.equal(deleted.status, 202);
  await waitFor(() => !fs.existsSync(dir), { what: 'workspace folder removed', timeoutMs: 15_000 });
  assert.deepEqual(stillRunning(running), [], 'no process of the workspace is left');
  assert.equal((await get(id)).status, 404);
});

test('a restarted worker brings back a workspace whose processes died and stops one it does not know', async () => {
  const created = await stack.api('POST', '/api/v2/tasks/me', { token, body: { template_version_id: versionId, input: 'Survive a crash' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id: string = created.body.id;
  const dir = path.join(stack.config.dataDir, 'workspaces', created.body.workspace_id);
  await until(id, 'active');
  await replied(id, 'Survive a crash');

  // a workspace folder the database has never heard of, with a live agent in it
  const stranger = '00000000-0000-4000-8000-00000000beef';
  const driver = createProcessDriver({ dataDir: stack.config.dataDir, hostId: stack.config.worker.hostId!, log: stack.log });
  await driver.start({
    workspaceId: stranger,
    workspaceName: 'stranger',
    ownerName: 'nobody',
    taskId: null,
    buildId: '00000000-0000-4000-8000-00000000cafe',
    buildNumber: 1,
    transition: 'start',
    definition: workspaceDefinitionSchema.parse({ provisioner: 'process', apps: [] }),
    agent: { id: '00000000-0000-4000-8000-00000000f00d', name: 'main', token: 'x' },
    accessUrl: 'http://127.0.0.1:1',
  });
  await waitFor(() => processesIn(driver.workspaceDir(stranger)).length > 0, { what: 'stranger running' });

  const startWorker = await stack.stopWorker();
  // the host "crashes": every process of the task's workspace dies at once
  const all = () => workspaceProcesses(stack.config.dataDir, created.body.workspace_id);
  for (const pid of all()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (err) {
      // listed a moment ago, gone since (a short-lived child of the workspace): already what we want
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  await waitFor(() => all().length === 0, { what: 'workspace processes gone' });
  await startWorker();

  await waitFor(() => processesIn(driver.workspaceDir(stranger)).length === 0, { what: 'stranger stopped' });
  await waitFor(() => processesIn(dir).length >= 2, { what: 'workspace restarted' });
  const l = await replied(id, 'Survive a crash');
  assert.equal(l.filter((e) => e.type === 'input').length, 1, 'the restarted agent did not resend the prompt');
  assert.equal((await stack.api('DELETE', `/api/v2/tasks/me/${id}`, { token })).status, 202);
  await waitFor(() => !fs.existsSync(dir), { what: 'workspace folder removed', timeoutMs: 15_000 });
});
