import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startTestStack, type TestStack } from '../helpers/stack';
import { query, seedTask, type SeededTask } from '../helpers/agent-fixtures';
import { waitFor } from '../helpers/wait';
import { freePort } from '../../devstack/free-port';
import { startWorkspaceAgent, type WorkspaceAgent } from '../../agent/workspace-agent';
import { createLogger } from '../../lib/logger';

// The workspace agent against the real API, running the built-in AgentAPI agent as its AI app.

let stack: TestStack;
const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'workspace-agent');
const BUILTIN = 'exec node --import "$TASKD_TSX" "$TASKD_ROOT/agent/builtin-agent-main.ts"';

before(async () => {
  stack = await startTestStack({ worker: false });
});
after(async () => {
  await stack?.close();
});

// The agent's reports keep only the latest of each kind while one is in flight, so a reply written
// faster than a report's round trip would never show as "working": the app thinks long enough here.
async function seedBuiltin(prompt: string): Promise<{ task: SeededTask; port: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = { slug: 'agent', url, command: BUILTIN, healthcheck: { url: `${url}/status`, interval_s: 1, threshold: 20 } };
  const task = await seedTask(stack.orm, {
    prompt,
    apps: [app],
    definition: {
      provisioner: 'external',
      env: { TASKD_AGENT_STATE_FILE: '.builtin-agent-state.json', TASKD_AGENT_THINK_MS: '750', TASKD_AGENT_SETTLE_MS: '50' },
      apps: [{ slug: 'agent', url, command: BUILTIN, healthcheck: { path: '/status', interval_s: 1, threshold: 20 } }],
      ai_task: { app: 'agent' },
    },
  });
  return { task, port };
}

function run(task: SeededTask, workspaceDir: string): WorkspaceAgent {
  return startWorkspaceAgent({ url: stack.baseUrl, token: task.builds[0]!.token!, workspaceDir, log, shutdownReportMs: 4_000 });
}

const agentRow = async (t: SeededTask) =>
  (await query<{ lifecycle_state: string; start_error: string | null }>(stack.orm, 'select lifecycle_state, start_error from workspace_agents where id = ?', [t.builds[0]!.agentId]))[0]!;
const messages = (t: SeededTask) =>
  query<{ message_id: number; role: string; content: string }>(stack.orm, 'select message_id, role, content from task_messages where task_id = ? order by message_id', [t.taskId]);
const latestStatus = async (t: SeededTask) =>
  (await query<{ state: string; message: string }>(stack.orm, 'select state, message from workspace_app_statuses where workspace_id = ? order by created_at desc limit 1', [t.workspaceId]))[0];

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

test('runs the apps, delivers the current prompt once, relays state and conversation, and survives a restart', async () => {
  const { task, port } = await seedBuiltin('old prompt');
  await query(stack.orm, 'update tasks set prompt = ? where id = ?', ['Write a haiku about tests', task.taskId]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-ws-'));
  try {
    let agent = run(task, dir);
    await agent.started;
    await waitFor(async () => (await agentRow(task)).lifecycle_state === 'ready', { what: 'lifecycle ready' });
    await waitFor(async () => (await query<{ health: string }>(stack.orm, 'select health from workspace_apps where agent_id = ?', [task.builds[0]!.agentId]))[0]?.health === 'healthy', { what: 'app healthy' });

    // the prompt goes in as the first user message, the reply comes back, and the app settles idle
    const conversation = await waitFor(async () => {
      const m = await messages(task);
      return m.length >= 3 && m[2]!.role === 'agent' && m[2]!.content.includes('What would you like next?') ? m : null;
    }, { what: 'reply stored' });
    assert.deepEqual(conversation.slice(0, 2).map((m) => m.role), ['agent', 'user']);
    assert.equal(conversation[1]!.content, 'Write a haiku about tests');
    const idle = await waitFor(async () => {
      const s = await latestStatus(task);
      return s?.state === 'idle' ? s : null;
    }, { what: 'idle status' });
    assert.match(idle.message, /^Read your message of \d+ words? and summarised it below\.$/);
    const states = await query<{ state: string }>(stack.orm, 'select state from workspace_app_statuses where workspace_id = ? order by created_at', [task.workspaceId]);
    assert.ok(states.some((s) => s.state === 'working'), 'working was reported while the reply was written');
    assert.ok(fs.existsSync(path.join(dir, '.taskd', 'logs', 'agent.log')), 'the app logs to the workspace folder');

    // shutdown: snapshot uploaded, apps stopped, lifecycle off
    await agent.shutdown();
    assert.equal((await agentRow(task)).lifecycle_state, 'off');
    const [snap] = await query<{ log_snapshot: { format: string; data: { messages: { role: string; content: string }[] } } }>(
      stack.orm,
      'select log_snapshot from task_snapshots where task_id = ?',
      [task.taskId],
    );
    assert.equal(snap!.log_snapshot.format, 'agentapi');
    assert.equal(snap!.log_snapshot.data.messages[1]!.content, 'Write a haiku about tests');
    assert.equal(await portOpen(port), false, 'the AI app is stopped');

    // a restart in the same folder finds the conversation again and does not resend the prompt:
    // once the new run reports idle, it has decided
    const countStatuses = async () =>
      (await query(stack.orm, 'select 1 from workspace_app_statuses where workspace_id = ?', [task.workspaceId])).length;
    const before = await countStatuses();
    agent = run(task, dir);
    await agent.started;
    await waitFor(async () => (await countStatuses()) > before && (await latestStatus(task))?.state === 'idle', { what: 'idle again' });
    const after = await messages(task);
    assert.deepEqual(after.map((m) => m.role), ['agent', 'user', 'agent'], 'the prompt was sent exactly once');
    await agent.shutdown();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an app that exits at once makes the lifecycle start_error with the reason', async () => {
  const task = await seedTask(stack.orm, {
    apps: [{ slug: 'agent', url: 'http://127.0.0.1:9', command: 'echo broken >&2; exit 3' }],
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-ws-'));
  try {
    const agent = run(task, dir);
    await agent.started;
    const row = await waitFor(async () => {
      const r = await agentRow(task);
      return r.lifecycle_state === 'start_error' ? r : null;
    }, { what: 'start_error' });
    assert.match(row.start_error ?? '', /app "agent" exited with code 3/);
    assert.match(fs.readFileSync(path.join(dir, '.taskd', 'logs', 'agent.log'), 'utf8'), /broken/);
    await agent.shutdown();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an agent whose token is refused stops instead of retrying forever', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskd-ws-'));
  try {
    const agent = startWorkspaceAgent({ url: stack.baseUrl, token: 'wrong', workspaceDir: dir, log });
    await assert.rejects(agent.started, /401/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
