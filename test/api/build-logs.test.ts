// GET /workspacebuilds/{id}/logs: the lines a build's provisioning wrote, as a JSON list (after /
// before / format=text) and followed over a WebSocket (ws) until the build ends, as Coder's SDK and CLI
// read them; errors in Coder's words; 404 for a build the caller may not see.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate } from '../helpers/fixtures';
import { activeTaskOf, taskWorld, type Person, type TaskWorld } from '../helpers/task-world';
import { waitFor } from '../helpers/wait';

let stack: TestStack;
let world: TaskWorld;

before(async () => {
  stack = await startTestStack();
  world = await taskWorld(stack);
});
after(async () => {
  await stack?.close();
});

interface LogLine {
  id: number;
  created_at: string;
  log_source: string;
  log_level: string;
  stage: string;
  output: string;
}

const latestBuildId = async (who: Person, workspaceId: string): Promise<string> =>
  (await stack.api('GET', `/api/v2/workspaces/${workspaceId}`, { token: who.token })).body.latest_build.id;
const logs = (who: Person, buildId: string, query = '') => stack.api('GET', `/api/v2/workspacebuilds/${buildId}/logs${query}`, { token: who.token });

/** Follows a build's log as codersdk does: every message until the server closes, and how it closed. */
function follow(
  who: Person | null,
  buildId: string,
  after = 0,
  headers: Record<string, string> = who ? { 'Coder-Session-Token': who.token } : {},
): Promise<{ lines: LogLine[]; code: number; status?: number; body?: string }> {
  const url = `${stack.baseUrl.replace('http', 'ws')}/api/v2/workspacebuilds/${buildId}/logs?follow${after ? `&after=${after}` : ''}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const lines: LogLine[] = [];
    ws.on('message', (data) => lines.push(JSON.parse(String(data)) as LogLine));
    ws.on('close', (code) => resolve({ lines, code }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ lines, code: 0, status: res.statusCode, body }));
    });
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe('GET /workspacebuilds/{id}/logs', () => {
  test("a start build's log says what the provisioner did; after, before and format=text select and render it", async () => {
    const task = await activeTaskOf(stack, world.alice, world.version.id);
    const buildId = await latestBuildId(world.alice, task.workspace_id);
    const res = await logs(world.alice, buildId);
    assert.equal(res.status, 200);
    const lines = res.body as LogLine[];
    assert.ok(lines.length >= 3, JSON.stringify(lines));
    assert.match(lines[0]!.output, new RegExp(`^Build #1 of alice/${task.name}: start on the echo provisioner$`));
    assert.ok(lines.some((l) => /^App ai-agent serves /.test(l.output)));
    assert.equal(lines.at(-1)!.output.startsWith('Workspace started'), true);
    for (const l of lines) {
      assert.equal(l.stage, 'Starting workspace');
      assert.equal(l.log_source, 'provisioner');
      assert.equal(l.log_level, 'info');
      assert.ok(!Number.isNaN(Date.parse(l.created_at)));
    }
    assert.deepEqual(lines.map((l) => l.id), [...lines.map((l) => l.id)].sort((a, b) => a - b));

    const rest = (await logs(world.alice, buildId, `?after=${lines[0]!.id}`)).body as LogLine[];
    assert.deepEqual(rest.map((l) => l.id), lines.slice(1).map((l) => l.id));
    const first = (await logs(world.alice, buildId, `?before=${lines[1]!.id}`)).body as LogLine[];
    assert.deepEqual(first.map((l) => l.id), [lines[0]!.id]);
    const text = await stack.api('GET', `/api/v2/workspacebuilds/${buildId}/logs?format=text`, { token: world.alice.token });
    assert.equal(text.status, 200);
    assert.match(String(text.body), /\[info\] Starting workspace: Build #1 of alice\//);
  });

  test('bad input is 400 in Coder words; a build of someone else is 404', async () => {
    const task = await activeTaskOf(stack, world.alice, world.version.id);
    const buildId = await latestBuildId(world.alice, task.workspace_id);
    const bad = await logs(world.alice, buildId, '?after=abc');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.message, 'Query param "after" must be an integer.');
    assert.deepEqual(bad.body.validations, [{ field: 'after', detail: 'Must be an integer' }]);
    assert.equal((await logs(world.alice, buildId, '?follow&format=text')).body.message, 'Text format is not supported with follow mode.');
    const plain = await logs(world.alice, buildId, '?follow');
    assert.equal(plain.status, 400);
    assert.equal(plain.body.message, 'Failed to accept websocket.');
    assert.equal((await logs(world.bob, buildId)).status, 404);
    assert.equal((await logs(world.admin, buildId)).status, 200);
    assert.equal((await logs(world.alice, 'not-a-uuid')).status, 400);
    const refused = await follow(world.bob, buildId);
    assert.equal(refused.status, 404);
    assert.equal(JSON.parse(refused.body!).message, 'Resource not found or you do not have access to this resource');
    assert.equal((await follow(null, buildId)).status, 401);
  });

  test("with the session cookie, only taskd's own pages may follow (a page on another port may not)", async () => {
    const task = await activeTaskOf(stack, world.alice, world.version.id);
    const buildId = await latestBuildId(world.alice, task.workspace_id);
    const cookie = `coder_session_token=${world.alice.token}`;
    const elsewhere = await follow(null, buildId, 0, { Cookie: cookie, Origin: 'http://127.0.0.1:1' });
    assert.equal(elsewhere.status, 403);
    assert.equal(JSON.parse(elsewhere.body!).message, 'Cross-site request refused.');
    const own = await follow(null, buildId, 0, { Cookie: cookie, Origin: stack.baseUrl });
    assert.equal(own.code, 1000);
    assert.ok(own.lines.length >= 3);
  });

  test('follow streams a running build line by line and closes normally when it ends', async () => {
    const { version } = await createAiTemplate(stack, world.owner.token, world.org.id, { name: 'slow-echo', workspace: { echo: { delay_ms: 1500 } } });
    const created = await stack.api('POST', '/api/v2/tasks/me', { token: world.alice.token, body: { template_version_id: version.id, input: 'slow' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const buildId = await latestBuildId(world.alice, created.body.workspace_id);
    // the build is still running: the first line is there, the rest is not
    await waitFor(async () => ((await logs(world.alice, buildId)).body as LogLine[]).length > 0, { what: 'first line' });
    const build = await stack.api('GET', `/api/v2/workspacebuilds/${buildId}`, { token: world.alice.token });
    assert.equal(build.body.job.status, 'running');
    const followed = await follow(world.alice, buildId);
    assert.equal(followed.code, 1000);
    assert.match(followed.lines[0]!.output, /^Build #1 of alice\//);
    assert.ok(followed.lines.at(-1)!.output.startsWith('Workspace started'), JSON.stringify(followed.lines));
    // every line, once, in order
    const all = (await logs(world.alice, buildId)).body as LogLine[];
    assert.deepEqual(followed.lines.map((l) => l.id), all.map((l) => l.id));
    // after: only the lines past it
    const tail = await follow(world.alice, buildId, all[0]!.id);
    assert.deepEqual(tail.lines.map((l) => l.id), all.slice(1).map((l) => l.id));
    assert.equal(tail.code, 1000);
  });

  test('a failed build logs its cause as an error line', async () => {
    const { version } = await createAiTemplate(stack, world.owner.token, world.org.id, { name: 'failing-stop', workspace: { echo: { fail: ['stop'] } } });
    const task = await activeTaskOf(stack, world.alice, version.id);
    assert.equal((await stack.api('POST', `/api/v2/tasks/me/${task.id}/pause`, { token: world.alice.token })).status, 202);
    let buildId = '';
    await waitFor(
      async () => {
        const ws = (await stack.api('GET', `/api/v2/workspaces/${task.workspace_id}`, { token: world.alice.token })).body;
        buildId = ws.latest_build.id;
        return ws.latest_build.transition === 'stop' && ws.latest_build.job.status === 'failed';
      },
      { what: 'stop build failed' },
    );
    const lines = (await logs(world.alice, buildId)).body as LogLine[];
    const last = lines.at(-1)!;
    assert.equal(last.log_level, 'error');
    assert.equal(last.stage, 'Stopping workspace');
    assert.equal(last.output, 'Build failed: echo provisioner: stop fails as the template asks');
  });
});
