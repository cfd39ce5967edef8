import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '../helpers/wait';
import { startTestStack, type TestStack } from '../helpers/stack';
import { freePort } from '../../devstack/free-port';
import { cliEnv, cliOk, loginFirstUser, runCli, startCli, storedToken, type RunningCli } from './cli-helpers';

// End to end with nothing played by the test: an `external` template, a task created with the
// CLI, the workspace agent run as `taskd agent --url … --token …` (running the built-in AgentAPI
// agent as the AI app), and the task followed, read and talked to through the CLI.

let stack: TestStack;
let env: Record<string, string>;
let agentCli: RunningCli | undefined;

before(async () => {
  stack = await startTestStack();
  env = cliEnv(stack.baseUrl);
  await loginFirstUser(env, 'owner');
});
after(async () => {
  agentCli?.proc.kill('SIGKILL');
  await stack?.close();
});

test('taskd agent runs the workspace of an external task; status --watch, logs and send work against it', async () => {
  const port = await freePort();
  const template = path.join(env.HOME!, 'external.yaml');
  fs.writeFileSync(
    template,
    [
      'name: remote',
      'workspace:',
      '  provisioner: external',
      '  env:',
      '    TASKD_AGENT_THINK_MS: "20"',
      '    TASKD_AGENT_SETTLE_MS: "50"',
      '  apps:',
      '    - slug: agent',
      `      url: http://127.0.0.1:${port}`,
      '      command: exec node --import "$TASKD_TSX" "$TASKD_ROOT/agent/builtin-agent-main.ts"',
      '      healthcheck: { path: /status, interval_s: 1, threshold: 20 }',
      '  ai_task: { app: agent }',
      '',
    ].join('\n'),
  );
  await cliOk(['templates', 'create', template], env);
  await cliOk(['task', 'create', '--name', 'remote-task', 'Write a haiku about tests'], env);

  // the build succeeds but nobody runs the agent yet
  const token = storedToken(env);
  const task = await waitFor(
    async () => {
      const t = (await stack.api('GET', '/api/v2/tasks/me/remote-task', { token })).body;
      return t.workspace_agent_id ? t : null;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: 'the external workspace built (its agent recorded)' },
  );
  const waiting = await cliOk(['task', 'status', 'remote-task', '-c', 'status,message'], env);
  assert.match(waiting.stdout, /initializing\s+Agent is connecting/);

  const creds = await stack.api('GET', `/api/v2/workspaces/${task.workspace_id}/external-agent/main/credentials`, { token });
  assert.equal(creds.status, 200, JSON.stringify(creds.body));
  const dir = fs.mkdtempSync(path.join(env.HOME!, 'workspace-'));
  agentCli = startCli(['agent', '--url', stack.baseUrl, '--token', creds.body.agent_token, '--dir', dir], { ...env, LOG_LEVEL: 'warn' });

  // the watch ends by itself once the agent has answered the prompt and waits for input
  const watch = await runCli(['task', 'status', 'remote-task', '--watch', '--watch-interval', '200ms'], env, { timeoutMs: 30_000 });
  assert.equal(watch.code, 0, `${watch.stdout}\n${watch.stderr}`);
  assert.match(watch.stdout, /initializing/);
  assert.match(watch.stdout.trim().split('\n').at(-1)!, /active\s+true\s+idle\s/);

  const logs = await cliOk(['task', 'logs', 'remote-task'], env);
  assert.match(logs.stdout, /^input\s+Write a haiku about tests$/m);
  assert.match(logs.stdout, /^output\s+\S/m);

  await cliOk(['task', 'send', 'remote-task', 'And one about linters'], env, { timeoutMs: 30_000 });
  const after = JSON.parse((await cliOk(['task', 'logs', 'remote-task', '-o', 'json'], env)).stdout);
  assert.ok(after.some((e: { type: string; content: string }) => e.type === 'input' && e.content === 'And one about linters'));

  agentCli.proc.kill('SIGTERM');
  const ended = await agentCli.exited;
  assert.equal(ended.code, 0, ended.stderr);
  await cliOk(['task', 'delete', 'remote-task', '-y'], env);
});

test('taskd agent without its flags explains its usage', async () => {
  const res = await runCli(['agent'], cliEnv(stack.baseUrl));
  assert.equal(res.code, 2);
  assert.match(res.stderr, /taskd agent --url <taskd URL> --token <agent token>/);
  assert.match((await cliOk(['agent', '--help'], env)).stdout, /^Usage: taskd agent/);
});
