// The external driver: the build only records the apps; the agent runs wherever its credentials are
// used — here `taskd agent --url … --token …` as a separate process, running the built-in agent.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate, setupOwner } from '../helpers/fixtures';
import { waitFor } from '../helpers/wait';
import { freePort } from '../../devstack/free-port';

const ROOT = path.resolve(__dirname, '..', '..');
let stack: TestStack;
let token: string;
let versionId: string;
let appPort: number;

before(async () => {
  stack = await startTestStack();
  const owner = await setupOwner(stack);
  token = owner.token;
  appPort = await freePort();
  const { version } = await createAiTemplate(stack, token, owner.org.id, {
    name: 'external',
    workspace: {
      provisioner: 'external',
      env: { TASKD_AGENT_STATE_FILE: '.builtin-agent-state.json', TASKD_AGENT_THINK_MS: '20', TASKD_AGENT_SETTLE_MS: '100' },
      apps: [
        {
          slug: 'agent',
          url: `http://127.0.0.1:${appPort}`,
          command: 'exec node --import "$TASKD_TSX" "$TASKD_ROOT/agent/builtin-agent-main.ts"',
          healthcheck: { path: '/status', interval_s: 1, threshold: 20 },
        },
      ],
      ai_task: { app: 'agent' },
    },
  });
  versionId = version.id;
});
after(async () => {
  await stack?.close();
});

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

const getTask = async (id: string) => (await stack.api('GET', `/api/v2/tasks/me/${id}`, { token })).body;

test('the build succeeds without an agent; `taskd agent` with the credentials runs it elsewhere until the task is paused', async () => {
  const created = await stack.api('POST', '/api/v2/tasks/me', { token, body: { template_version_id: versionId, input: 'Hello from afar' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id: string = created.body.id;
  const task = await waitFor(async () => {
    const t = await getTask(id);
    return t.workspace_agent_id && t.status === 'initializing' ? t : null;
  }, { what: 'build done, agent waiting' });
  assert.equal(task.workspace_agent_lifecycle, 'created');

  const creds = await stack.api('GET', `/api/v2/workspaces/${task.workspace_id}/external-agent/main/credentials`, { token });
  assert.equal(creds.status, 200, JSON.stringify(creds.body));
  const { agent_token, command } = creds.body as { agent_token: string; command: string };
  // the token goes in the environment: a command line is visible to every user of the machine
  assert.equal(command, `TASKD_AGENT_TOKEN=${agent_token} taskd agent --url ${stack.config.http.accessUrl}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-external-'));
  // run what the command says, through the repo's bin
  const [assignment, , ...args] = command.split(' ');
  const agent = spawn(process.execPath, [path.join(ROOT, 'bin', 'taskd.js'), ...args, '--dir', dir], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', TASKD_AGENT_TOKEN: assignment!.split('=')[1] },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  assert.ok(!fs.readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8').includes(agent_token), 'the token is not on the command line');
  let stderr = '';
  agent.stderr!.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
  try {
    await waitFor(async () => (await getTask(id)).status === 'active', { what: 'task active', timeoutMs: 15_000 });
    const logs = await waitFor(async () => {
      const res = await stack.api('GET', `/api/v2/tasks/me/${id}/logs`, { token });
      const l = res.body.logs as { type: string; content: string }[] | undefined;
      return l && l.length >= 3 && l[2]!.content.endsWith('What would you like next?') ? l : null;
    }, { what: 'reply' });
    assert.equal(logs[1]!.type, 'input');
    assert.equal(logs[1]!.content, 'Hello from afar');

    // pausing ends the build the agent belongs to: it notices at its next check-in and stops
    assert.equal((await stack.api('POST', `/api/v2/tasks/me/${id}/pause`, { token })).status, 202);
    await waitFor(async () => (await getTask(id)).status === 'paused', { what: 'task paused' });
    assert.equal(await exited, 0, stderr);
    assert.equal(await portOpen(appPort), false, 'the agent stopped its apps');
    const paused = await stack.api('GET', `/api/v2/tasks/me/${id}/logs`, { token });
    assert.equal(paused.body.snapshot, true);
    assert.deepEqual(
      paused.body.logs.map((e: { content: string }) => e.content),
      logs.map((e) => e.content),
      'the conversation the agent forwarded is readable while paused',
    );
  } finally {
    try {
      process.kill(-agent.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
