import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import { startBuiltinAgent, type BuiltinAgent } from '../../agent/agentapi-server';
import { cliEnv, cliOk, loginFirstUser, reportAppState, runCli, startCli, storedToken } from './cli-helpers';

// `taskd task logs | send | pause | resume | delete` against echo workspaces whose task app is a
// real built-in AgentAPI agent run by this test; the test plays the workspace agent's status
// reports (app state "idle") with the agent token, since echo workspaces run no agent.

let stack: TestStack;
let agent: BuiltinAgent;
let env: Record<string, string>;
let token: string;

before(async () => {
  stack = await startTestStack();
  agent = await startBuiltinAgent({ port: 0, host: '127.0.0.1', thinkMs: 50, settleMs: 50 });
  env = cliEnv(stack.baseUrl);
  await loginFirstUser(env, 'owner');
  token = storedToken(env);
  const orgId = (await stack.api('GET', '/api/v2/users/me', { token })).body.organization_ids[0];
  await createAiTemplate(stack, token, orgId, { name: 'chat', workspace: { apps: [{ slug: 'ai', url: agent.url }], ai_task: { app: 'ai' } } });
});
after(async () => {
  await agent?.close();
  await stack?.close();
});

const apiTask = async (ref: string) => (await stack.api('GET', `/api/v2/tasks/me/${ref}`, { token })).body;

/** Waits until the task's build `buildNumber` is active with its agent, then reports the app idle. */
async function reportIdleWhenActive(name: string, minBuild: number): Promise<void> {
  const task = await waitFor(
    async () => {
      const t = await apiTask(name);
      return t.status === 'active' && t.workspace_build_number >= minBuild && t.workspace_agent_id ? t : null;
    },
    { what: `task ${name} active at build ${minBuild}` },
  );
  await reportAppState(stack, task.workspace_agent_id, { app_slug: 'ai', state: 'idle', message: 'Ready for input' });
}

describe('a task through its life, by the CLI', () => {
  test('logs, send and logs --follow: the input and the reply appear; Ctrl-C only ends the CLI', async () => {
    await cliOk(['task', 'create', '--name', 'talk', '--wait', 'Hello agent'], env);
    const empty = await cliOk(['task', 'logs', 'talk'], env);
    assert.match(empty.stdout, /^TYPE\s+CONTENT/);

    const follow = startCli(['task', 'logs', 'talk', '--follow', '--follow-interval', '200ms'], env);
    await follow.waitForStdout(/^TYPE\s+CONTENT/m);
    await reportIdleWhenActive('talk', 1);
    await cliOk(['task', 'send', 'talk', 'Please add tests'], env);
    await follow.waitForStdout(/^input\s+Please add tests$/m);
    await follow.waitForStdout(/^output\s+\S[\s\S]*Please add tests/m);
    follow.proc.kill('SIGINT');
    const ended = await follow.exited;
    assert.equal(ended.code, 130);
    // entries are printed once each, and the header once
    assert.equal(ended.stdout.match(/^input\s+Please add tests$/gm)?.length, 1, ended.stdout);
    assert.equal(ended.stdout.match(/^TYPE/gm)?.length, 1);
    assert.equal((await apiTask('talk')).status, 'active');

    const json = JSON.parse((await cliOk(['task', 'logs', 'talk', '-o', 'json'], env)).stdout);
    const input = json.find((e: { type: string; content: string }) => e.type === 'input' && e.content === 'Please add tests');
    assert.ok(input && typeof input.id === 'number' && typeof input.time === 'string', JSON.stringify(json));
    assert.ok(json.some((e: { type: string }) => e.type === 'output'));
  });

  test('send prints the server message for input it refuses', async () => {
    const res = await runCli(['task', 'send', 'talk', ''], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /send input to task "owner\/talk": Task input is required\./);
    const noInput = await runCli(['task', 'send', 'talk'], env);
    assert.equal(noInput.code, 2);
  });

  test('pause, resume and delete refuse without -y when stdin is not a terminal', async () => {
    for (const cmd of ['pause', 'delete']) {
      const res = await runCli(['task', cmd, 'talk'], env);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /confirmation needed, but stdin is not a terminal; pass -y\/--yes/);
    }
    assert.equal((await apiTask('talk')).status, 'active');
    const resume = await runCli(['task', 'resume', 'talk', '-y'], env);
    assert.equal(resume.code, 1);
    assert.match(resume.stderr, /task "owner\/talk" cannot be resumed \(current status: active\)/);
  });

  test('pause waits for the stop build; logs stay readable; resume brings it back', async () => {
    const paused = await cliOk(['task', 'pause', 'talk', '-y'], env);
    assert.match(paused.stdout, /The talk task has been paused at [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d!/);
    assert.match(paused.stderr, /Pausing task/);
    assert.equal((await apiTask('talk')).status, 'paused');
    await cliOk(['task', 'logs', 'talk'], env);

    const resumed = await cliOk(['task', 'resume', 'owner/talk', '--yes'], env);
    assert.match(resumed.stdout, /The owner\/talk task has been resumed\./);
    await waitFor(async () => (await apiTask('talk')).status === 'active', { what: 'talk active after resume' });
  });

  test('resume --no-wait returns at once', async () => {
    await cliOk(['task', 'pause', 'talk', '-y'], env);
    const res = await cliOk(['task', 'resume', 'talk', '-y', '--no-wait'], env);
    assert.equal(res.stdout, 'Resuming task "owner/talk" in the background.\n');
    await waitFor(async () => (await apiTask('talk')).status === 'active', { what: 'talk active after resume' });
  });

  test('send to a paused task resumes it, waits until it is idle, then sends', async () => {
    await cliOk(['task', 'pause', 'talk', '-y'], env);
    const before = (await apiTask('talk')).workspace_build_number;
    const send = startCli(['task', 'send', 'talk', 'Welcome back'], env);
    await reportIdleWhenActive('talk', before + 1);
    const res = await send.exited;
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /Resuming task/);
    const logs = await cliOk(['task', 'logs', 'talk'], env);
    assert.match(logs.stdout, /^input\s+Welcome back$/m);
  });

  test('send --queue returns at once and the server delivers the input; task queue lists and cancels', async () => {
    const queued = await cliOk(['task', 'send', '--queue', 'talk', 'Queued hello'], env);
    assert.match(queued.stdout, /^Queued input [0-9a-f-]{36} for task "owner\/talk"/);
    await waitFor(async () => /^input\s+Queued hello$/m.test((await cliOk(['task', 'logs', 'talk'], env)).stdout), { what: 'queued input delivered' });

    // a paused task keeps what is queued without resume=true: listed, then cancelled
    await cliOk(['task', 'pause', 'talk', '-y'], env);
    const held = await stack.api('POST', '/api/v2/tasks/me/talk/send?queue=true', { token, body: { input: 'Held for later' } });
    assert.equal(held.status, 202, JSON.stringify(held.body));
    assert.match((await cliOk(['task', 'logs', 'talk'], env)).stdout, /^queued\s+Held for later$/m);
    const listed = await cliOk(['task', 'queue', 'talk'], env);
    assert.match(listed.stdout, /^ID\s+STATE\s+QUEUED\s+INPUT$/m);
    assert.match(listed.stdout, new RegExp(`^${held.body.id}\\s+queued\\s+.*Held for later$`, 'm'));
    const cancelled = await cliOk(['task', 'queue', 'talk', '--cancel', held.body.id], env);
    assert.match(cancelled.stdout, /^Cancelled queued input /);
    assert.deepEqual(JSON.parse((await cliOk(['task', 'queue', 'talk', '-o', 'json'], env)).stdout), []);
  });

  test('delete removes several tasks after one confirmation; they are then unknown', async () => {
    await cliOk(['task', 'create', '--name', 'other', 'Second task'], env);
    const res = await cliOk(['task', 'rm', 'talk', 'owner/other', '-y'], env);
    const lines = res.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^Deleted task owner\/talk at /);
    assert.match(lines[1]!, /^Deleted task owner\/other at /);
    const gone = await runCli(['task', 'status', 'talk'], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /resolve task "talk": Resource not found/);
    // nothing is deleted when one of the identifiers does not resolve
    await cliOk(['task', 'create', '--name', 'kept', 'Keep me'], env);
    const partial = await runCli(['task', 'delete', 'kept', 'ghost', '-y'], env);
    assert.match(partial.stderr, /resolve task "ghost": Resource not found/);
    assert.equal((await apiTask('kept')).name, 'kept');
  });

  test('logs --follow holds back a reply while the agent is still writing it, then prints it whole', async () => {
    // an AgentAPI whose conversation the test writes: the reply grows while the task is "working"
    let messages = [
      { id: 0, role: 'agent', content: 'Welcome', time: '2026-11-25T10:00:00Z' },
      { id: 1, role: 'user', content: 'Explain the retry policy', time: '2026-11-25T10:00:01Z' },
      { id: 2, role: 'agent', content: 'Retries back off expo', time: '2026-11-25T10:00:02Z' },
    ];
    let reads = 0;
    const app = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      if (req.url === '/messages') {
        reads += 1;
        res.end(JSON.stringify({ messages }));
      }
      else res.end(JSON.stringify({ status: 'running', agent_type: 'custom' }));
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
      const orgId = (await stack.api('GET', '/api/v2/users/me', { token })).body.organization_ids[0];
      await createAiTemplate(stack, token, orgId, { name: 'writer', workspace: { apps: [{ slug: 'ai', url }], ai_task: { app: 'ai' } } });
      await cliOk(['task', 'create', '--template', 'writer', '--name', 'writing', '--wait', 'Explain the retry policy'], env);
      const task = await apiTask('writing');
      await reportAppState(stack, task.workspace_agent_id, { app_slug: 'ai', state: 'working', message: 'Writing' });

      const follow = startCli(['task', 'logs', 'writing', '--follow', '--follow-interval', '100ms'], env);
      await follow.waitForStdout(/^input\s+Explain the retry policy$/m);
      const readsBefore = reads;
      await waitFor(() => reads >= readsBefore + 3, { timeoutMs: 60_000, what: 'several reads of the half-written reply' });
      assert.doesNotMatch(follow.output().stdout, /expo/, 'nothing of the unfinished reply');

      messages = [...messages.slice(0, 2), { ...messages[2]!, content: 'Retries back off exponentially, up to a minute.' }];
      await reportAppState(stack, task.workspace_agent_id, { app_slug: 'ai', state: 'idle', message: 'Done' });
      await follow.waitForStdout(/^output\s+Retries back off exponentially, up to a minute\.$/m);
      follow.proc.kill('SIGINT');
      const ended = await follow.exited;
      assert.equal(ended.stdout.match(/expo/g)?.length, 1, ended.stdout);
    } finally {
      await new Promise((resolve) => app.close(resolve));
    }
  });
});
