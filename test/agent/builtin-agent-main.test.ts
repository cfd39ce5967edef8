import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentApiClient } from '../../agent/agentapi-client';
import { defer, tempDir, waitFor } from './agent-test-helpers';

const ROOT = join(__dirname, '..', '..');

function spawnMain(t: TestContext, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'agent/builtin-agent-main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  defer(t, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  });
  return child;
}

function collect(stream: NodeJS.ReadableStream | null): { text: string } {
  const out = { text: '' };
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => (out.text += chunk));
  return out;
}

test('the CLI listens, saves its conversation, and exits 0 on SIGTERM', async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, 'agent-state.json');
  const child = spawnMain(t, {
    PORT: '0',
    TASKD_AGENT_STATE_FILE: stateFile,
    TASKD_AGENT_THINK_MS: '10',
    TASKD_AGENT_SETTLE_MS: '10',
  });
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const line = await waitFor('listening line', () => stdout.text.match(/^builtin agent listening on (http:\/\/\S+)\n/), 20_000);
  const client = new AgentApiClient(line[1]);

  await waitFor('stable', async () => (await client.getStatus()).status === 'stable');
  await client.postMessage('survive the restart', 'user');
  await waitFor('reply', async () => (await client.getMessages()).length === 3);

  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = await exited;
  assert.equal(code, 0, stderr.text);
  assert.equal(stdout.text.trim().split('\n').length, 1);
  const saved = JSON.parse(await readFile(stateFile, 'utf8'));
  assert.deepEqual(saved.messages.map((m: { role: string }) => m.role), ['agent', 'user', 'agent']);
  assert.equal(saved.messages[1].content, 'survive the restart');
});

test('the CLI refuses a malformed setting with exit code 2', async (t) => {
  const child = spawnMain(t, { PORT: 'eighty' });
  const stderr = collect(child.stderr);
  const [code] = await once(child, 'exit');
  assert.equal(code, 2);
  assert.match(stderr.text, /PORT must be an integer/);
});
