import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentApiClient, AgentApiError, type AgentEvent } from '../../agent/agentapi-client';
import { postMessage, startAgent, tempDir, waitFor, waitForStatus } from './agent-test-helpers';

/** Reads the raw stream until `done(text)` holds, so the framing itself can be asserted. */
function readRawEvents(
  baseUrl: string,
  done: (text: string) => boolean,
): Promise<{ headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}/events`, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (done(text)) {
          req.destroy();
          resolve({ headers: res.headers, text });
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('no matching events within 5 s')));
    req.end();
  });
}

function frames(text: string): Array<{ event: string; data: any }> {
  return text
    .split('\n\n')
    .filter((block) => block.length > 0)
    .map((block) => {
      const lines = block.split('\n');
      assert.equal(lines.length, 2, `one event line and one data line: ${block}`);
      assert.match(lines[0], /^event: /);
      assert.match(lines[1], /^data: /);
      return { event: lines[0].slice(7), data: JSON.parse(lines[1].slice(6)) };
    });
}

test('a new subscriber gets the headers, then one message_update per message and one status_change', async (t) => {
  const agent = await startAgent(t);
  await waitForStatus(agent.url, 'stable');
  await postMessage(agent.url, { content: 'use <b> & co', type: 'user' });
  await waitForStatus(agent.url, 'stable');

  const { headers, text } = await readRawEvents(agent.url, (s) => s.includes('status_change'));
  assert.equal(headers['content-type'], 'text/event-stream');
  assert.equal(headers['cache-control'], 'no-cache, no-store, must-revalidate');
  assert.equal(headers['x-accel-buffering'], 'no');
  assert.doesNotMatch(text, /^(id|retry):/m);
  // Go's encoder escapes HTML characters; a JSON parser reads them back unchanged.
  assert.match(text, /use \\u003cb\\u003e \\u0026 co/);

  const replay = frames(text);
  assert.deepEqual(
    replay.map((f) => [f.event, f.data.id ?? f.data.status]),
    [
      ['message_update', 0],
      ['message_update', 1],
      ['message_update', 2],
      ['status_change', 'stable'],
    ],
  );
  assert.deepEqual(Object.keys(replay[1].data), ['id', 'role', 'message', 'time']);
  assert.equal(replay[1].data.message, 'use <b> & co');
  assert.deepEqual(replay[3].data, { status: 'stable', agent_type: 'custom' });
});

test('live events through the client: user message, running, a growing reply with one id, stable', async (t) => {
  const agent = await startAgent(t, { settleMs: 60 });
  const client = new AgentApiClient(agent.url);
  const events: AgentEvent[] = [];
  const ctrl = new AbortController();
  const done = client.subscribeEvents((e) => events.push(e), ctrl.signal);

  await waitFor('first stable', () => events.some((e) => e.type === 'status_change' && e.status === 'stable'));
  await client.postMessage('summarise this please', 'user');
  await waitFor('second stable', () => events.filter((e) => e.type === 'status_change' && e.status === 'stable').length === 2);
  ctrl.abort();
  await done;

  const kinds = events.map((e) => (e.type === 'status_change' ? e.status : `${e.role}#${e.id}`));
  // The replay may catch the start-up phase or not; the turn itself is fully determined.
  const turnStart = kinds.indexOf('user#1');
  const replayed = kinds.slice(0, turnStart).join();
  assert.ok(replayed === 'agent#0,running,stable' || replayed === 'agent#0,stable', replayed);
  const turn = kinds.slice(turnStart);
  assert.deepEqual([turn[0], turn[1], turn.at(-1)], ['user#1', 'running', 'stable']);
  assert.ok(turn.slice(2, -1).every((k) => k === 'agent#2'), turn.join());
  const reply = events.filter((e): e is Extract<AgentEvent, { type: 'message_update' }> => e.type === 'message_update' && e.id === 2);
  assert.ok(reply.length >= 2, `streamed in ${reply.length} updates`);
  for (let i = 1; i < reply.length; i++) assert.ok(reply[i].message.startsWith(reply[i - 1].message));
  assert.match(reply.at(-1)!.message, /summarise this please/);
  const messages = await client.getMessages();
  assert.equal(messages[2].content, reply.at(-1)!.message);

  const statuses = events.filter((e) => e.type === 'status_change').map((e) => (e as { status: string }).status);
  for (let i = 1; i < statuses.length; i++) assert.notEqual(statuses[i], statuses[i - 1], 'no duplicate status_change');
});

test('agent_error is opt-in; when on, it follows the replay and the client skips it', async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, 'state.json');
  await writeFile(stateFile, '{ not json');

  const quiet = await startAgent(t, { stateFile });
  const quietText = (await readRawEvents(quiet.url, (s) => s.includes('status_change'))).text;
  assert.doesNotMatch(quietText, /agent_error/);
  await quiet.close();

  await writeFile(stateFile, '{ not json');
  const loud = await startAgent(t, { stateFile, emitAgentErrors: true });
  const { text } = await readRawEvents(loud.url, (s) => s.includes('agent_error'));
  const replay = frames(text);
  assert.deepEqual(replay.map((f) => f.event), ['message_update', 'status_change', 'agent_error']);
  assert.equal(replay[2].data.level, 'warning');
  assert.match(replay[2].data.message, /failed to restore state/);

  const client = new AgentApiClient(loud.url);
  const seen: AgentEvent[] = [];
  const ctrl = new AbortController();
  const done = client.subscribeEvents((e) => seen.push(e), ctrl.signal);
  await waitForStatus(loud.url, 'stable');
  await client.postMessage('still alive?', 'user');
  await waitFor('reply after agent_error', () => seen.some((e) => e.type === 'message_update' && e.id === 2));
  ctrl.abort();
  await done;
  assert.ok(seen.every((e) => e.type === 'message_update' || e.type === 'status_change'));
});

test('closing the server ends open streams, which the client reports as a transport error', async (t) => {
  const agent = await startAgent(t);
  const client = new AgentApiClient(agent.url);
  let count = 0;
  const done = client.subscribeEvents(() => count++, new AbortController().signal);
  await waitFor('replay', () => count >= 2);
  await agent.close();
  await assert.rejects(done, (err: unknown) => err instanceof AgentApiError && err.kind === 'transport');
});
