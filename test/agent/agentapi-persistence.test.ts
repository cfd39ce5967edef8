import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentApiClient, type AgentEvent } from '../../agent/agentapi-client';
import { parseState } from '../../agent/agent-state-file';
import { composeReply, streamingPrefixes } from '../../agent/scripted-reply';
import { getJson, postMessage, startAgent, tempDir, waitFor, waitForStatus } from './agent-test-helpers';

async function readState(file: string): Promise<any> {
  return JSON.parse(await readFile(file, 'utf8'));
}

test('a restarted agent shows its history and ids continue', async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, 'nested', 'state.json');

  const first = await startAgent(t, { stateFile });
  await waitForStatus(first.url, 'stable');
  assert.equal((await postMessage(first.url, { content: 'remember me', type: 'user' })).status, 200);
  await waitForStatus(first.url, 'stable');
  const before = (await getJson(`${first.url}/messages`)).messages;
  await first.close();

  const saved = await readState(stateFile);
  assert.equal(saved.version, 1);
  assert.equal(saved.pendingReplyTo, null);
  assert.deepEqual(saved.messages, before);
  // Atomic writes leave no temporary files behind.
  assert.deepEqual(await readdir(join(dir, 'nested')), ['state.json']);

  const second = await startAgent(t, { stateFile });
  assert.deepEqual((await getJson(`${second.url}/messages`)).messages, before);
  await waitForStatus(second.url, 'stable');
  assert.equal((await postMessage(second.url, { content: 'and this', type: 'user' })).status, 200);
  await waitForStatus(second.url, 'stable');
  const after = (await getJson(`${second.url}/messages`)).messages;
  assert.deepEqual(after.slice(0, 3), before);
  assert.deepEqual(
    after.slice(3).map((m: any) => [m.id, m.role]),
    [
      [3, 'user'],
      [4, 'agent'],
    ],
  );
  await second.close();
  assert.equal((await readState(stateFile)).messages.length, 5);
});

test('the state file follows every change, including the user message before any reply', async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, 'state.json');
  const agent = await startAgent(t, { stateFile, thinkMs: 10_000 });
  await waitFor('initial save', async () => (await readState(stateFile).catch(() => null))?.messages?.length === 1);
  await waitForStatus(agent.url, 'stable');
  await postMessage(agent.url, { content: 'persist me now', type: 'user' });
  const saved = await waitFor('user message saved', async () => {
    const s = await readState(stateFile).catch(() => null);
    return s?.messages?.length === 2 ? s : null;
  });
  assert.equal(saved.messages[1].content, 'persist me now');
  assert.equal(saved.pendingReplyTo, 1);
});

test('a turn cut short by a stop is finished after restart, only ever growing the reply', async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, 'state.json');
  const input = 'finish me after the restart';
  const prefixes = streamingPrefixes(composeReply(input));
  const now = new Date().toISOString();
  await writeFile(
    stateFile,
    JSON.stringify({
      version: 1,
      agentType: 'custom',
      pendingReplyTo: 1,
      messages: [
        { id: 0, role: 'agent', content: 'hello', time: now },
        { id: 1, role: 'user', content: input, time: now },
        { id: 2, role: 'agent', content: prefixes[0], time: now },
      ],
    }),
  );
  const agent = await startAgent(t, { stateFile });
  const events: AgentEvent[] = [];
  const ctrl = new AbortController();
  const done = new AgentApiClient(agent.url).subscribeEvents((e) => events.push(e), ctrl.signal);
  await waitForStatus(agent.url, 'stable');
  await waitFor('final status event', () => events.some((e) => e.type === 'status_change' && e.status === 'stable'));
  ctrl.abort();
  await done;

  const messages = (await getJson(`${agent.url}/messages`)).messages;
  assert.equal(messages.length, 3);
  assert.equal(messages[2].content, prefixes.at(-1));
  const lengths = events.flatMap((e) => (e.type === 'message_update' && e.id === 2 ? [e.message.length] : []));
  for (let i = 1; i < lengths.length; i++) assert.ok(lengths[i] > lengths[i - 1], lengths.join());
  await waitFor('pending cleared on disk', async () => (await readState(stateFile)).pendingReplyTo === null);
});

test('an unreadable state file is a warning and the agent starts fresh', async (t) => {
  const dir = await tempDir(t);
  const stateFile = join(dir, 'state.json');
  await writeFile(stateFile, '{"version":1,"messages":[{"id":5,"role":"agent","content":"x","time":"t"}]}');
  const warnings: string[] = [];
  const agent = await startAgent(t, { stateFile, onWarning: (m) => warnings.push(m) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /message 0 is malformed or out of order/);
  const messages = (await getJson(`${agent.url}/messages`)).messages;
  assert.deepEqual(messages.map((m: any) => m.id), [0]);
  await agent.close();
  assert.equal(parseState(await readFile(stateFile, 'utf8')).kind, 'loaded');
});

test('parseState rejects files that would break the id = position rule', () => {
  const ok = { version: 1, agentType: 'x', pendingReplyTo: null, messages: [{ id: 0, role: 'agent', content: '', time: 't' }] };
  assert.equal(parseState(JSON.stringify(ok)).kind, 'loaded');
  assert.equal(parseState(JSON.stringify({ ...ok, version: 2 })).kind, 'invalid');
  assert.equal(parseState(JSON.stringify({ ...ok, messages: [] })).kind, 'invalid');
  assert.equal(parseState(JSON.stringify({ ...ok, messages: [{ ...ok.messages[0], role: 'assistant' }] })).kind, 'invalid');
  // A pending reply pointing at an agent message is ignored rather than trusted.
  const loaded = parseState(JSON.stringify({ ...ok, pendingReplyTo: 0 }));
  assert.ok(loaded.kind === 'loaded' && loaded.state.pendingReplyTo === null);
});
