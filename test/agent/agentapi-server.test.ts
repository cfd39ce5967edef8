import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, postMessage, startAgent, waitForStatus } from './agent-test-helpers';

test('starts running with the greeting as message 0, then settles to stable', async (t) => {
  const agent = await startAgent(t, { settleMs: 400, greeting: 'Hello from the test agent' });
  const first = await getJson(`${agent.url}/status`);
  assert.equal(first.status, 'running');
  assert.equal(first.agent_type, 'custom');
  assert.equal(first.transport, 'pty');
  assert.match(first.$schema, /^http:\/\/127\.0\.0\.1:\d+\/schemas\/StatusResponseBody\.json$/);

  const { messages } = await getJson(`${agent.url}/messages`);
  assert.deepEqual(
    messages.map((m: any) => [m.id, m.role, m.content]),
    [[0, 'agent', 'Hello from the test agent']],
  );
  assert.ok(!Number.isNaN(Date.parse(messages[0].time)));
  await waitForStatus(agent.url, 'stable');
});

test('a user message is recorded trimmed, flips to running at once, and gets a streamed reply', async (t) => {
  const agent = await startAgent(t, { agentType: 'claude', thinkMs: 1_500 });
  await waitForStatus(agent.url, 'stable');

  const sent = await postMessage(agent.url, { content: '  Please fix the flaky test  \n', type: 'user' });
  assert.equal(sent.status, 200);
  assert.equal(sent.json.ok, true);
  assert.match(sent.json.$schema, /MessageResponseBody\.json$/);

  // The 200 promises the message is visible and the agent busy, before any reply exists (the agent
  // thinks long enough that a loaded machine still reads both before the reply starts).
  const status = await getJson(`${agent.url}/status`);
  assert.equal(status.status, 'running');
  assert.equal(status.agent_type, 'claude');
  const during = (await getJson(`${agent.url}/messages`)).messages;
  assert.equal(during.length, 2);
  assert.deepEqual([during[1].id, during[1].role, during[1].content], [1, 'user', 'Please fix the flaky test']);

  await waitForStatus(agent.url, 'stable');
  const after = (await getJson(`${agent.url}/messages`)).messages;
  assert.deepEqual(
    after.map((m: any) => m.id),
    after.map((_: unknown, i: number) => i),
  );
  assert.equal(after.length, 3);
  assert.equal(after[2].role, 'agent');
  assert.match(after[2].content, /Please fix the flaky test/);
  assert.match(after[2].content, /5 words, 25 characters/);
  assert.deepEqual(Object.keys(after[2]), ['id', 'content', 'role', 'time']);
});

test('replies are deterministic and ids keep matching positions over several turns', async (t) => {
  const agent = await startAgent(t);
  const replies: string[] = [];
  for (const text of ['first', 'second', 'first']) {
    await waitForStatus(agent.url, 'stable');
    assert.equal((await postMessage(agent.url, { content: text, type: 'user' })).status, 200);
    await waitForStatus(agent.url, 'stable');
    const messages = (await getJson(`${agent.url}/messages`)).messages;
    messages.forEach((m: any, i: number) => assert.equal(m.id, i));
    replies.push(messages.at(-1).content);
  }
  assert.equal(replies[0], replies[2]);
  assert.notEqual(replies[0], replies[1]);
});

test('a user message while running is a 500 and records nothing', async (t) => {
  const agent = await startAgent(t, { settleMs: 10_000 });
  const res = await postMessage(agent.url, { content: 'too early', type: 'user' });
  assert.equal(res.status, 500);
  assert.equal(res.json.status, 500);
  assert.equal(res.json.title, 'Internal Server Error');
  assert.equal(res.json.detail, 'unexpected error occurred');
  assert.match(res.json.errors[0].message, /message can only be sent when the agent is waiting for user input/);
  assert.equal((await getJson(`${agent.url}/messages`)).messages.length, 1);
});

test('whitespace-only content is a 500 "must not be empty"', async (t) => {
  const agent = await startAgent(t);
  await waitForStatus(agent.url, 'stable');
  const res = await postMessage(agent.url, { content: ' \n\t ', type: 'user' });
  assert.equal(res.status, 500);
  assert.match(res.json.errors[0].message, /message must not be empty/);
  assert.equal((await getJson(`${agent.url}/status`)).status, 'stable');
});

test('request validation answers 400/422 problem+json like huma', async (t) => {
  const agent = await startAgent(t);
  await waitForStatus(agent.url, 'stable');
  const cases: Array<[string, string, number, string, string[]]> = [
    ['empty body', '', 400, 'request body is required', ['body']],
    ['malformed JSON', '{"content":', 400, 'validation failed', ['body']],
    ['not an object', '[1,2]', 422, 'validation failed', ['body']],
    ['missing type', '{"content":"hi"}', 422, 'validation failed', ['body']],
    ['bad type', '{"content":"hi","type":"shout"}', 422, 'validation failed', ['body.type']],
    ['wrong JSON type', '{"content":42,"type":"user"}', 422, 'validation failed', ['body.content']],
    ['unknown property', '{"content":"hi","type":"user","extra":1}', 422, 'validation failed', ['body.extra']],
  ];
  for (const [name, body, status, detail, locations] of cases) {
    const res = await fetch(`${agent.url}/message`, { method: 'POST', body });
    assert.equal(res.status, status, name);
    assert.equal(res.headers.get('content-type'), 'application/problem+json', name);
    const json: any = await res.json();
    assert.equal(json.status, status, name);
    assert.equal(json.detail, detail, name);
    assert.equal(typeof json.title, 'string', name);
    assert.deepEqual(json.errors.map((e: any) => e.location), locations, name);
    for (const e of json.errors) assert.equal(typeof e.message, 'string', name);
  }
  const badType: any = await (await fetch(`${agent.url}/message`, { method: 'POST', body: cases[4][1] })).json();
  assert.equal(badType.errors[0].message, 'expected value to be one of "raw, user"');
  const malformed: any = await (await fetch(`${agent.url}/message`, { method: 'POST', body: cases[1][1] })).json();
  assert.equal(malformed.errors[0].value, '{"content":');

  // `$schema` is the one extra member huma tolerates.
  const withSchema = await postMessage(agent.url, { $schema: 'x', content: 'hi', type: 'user' });
  assert.equal(withSchema.status, 200);
  const recorded = (await getJson(`${agent.url}/messages`)).messages;
  assert.deepEqual([recorded[1].id, recorded[1].role, recorded[1].content], [1, 'user', 'hi']);
});

test('a JSON body over 1 MiB is a 413', async (t) => {
  const agent = await startAgent(t);
  const res = await postMessage(agent.url, { content: 'x'.repeat(1024 * 1024 + 10), type: 'user' });
  assert.equal(res.status, 413);
  assert.equal(res.json.detail, 'request body is too large limit=1048576 bytes');
  assert.equal((await getJson(`${agent.url}/messages`)).messages.length, 1);
});

test('raw input is accepted while running and never enters the history', async (t) => {
  const agent = await startAgent(t, { settleMs: 10_000 });
  const res = await postMessage(agent.url, { content: '2', type: 'raw' });
  assert.equal(res.status, 200);
  assert.equal(res.json.ok, true);
  assert.equal((await getJson(`${agent.url}/messages`)).messages.length, 1);
  assert.equal((await getJson(`${agent.url}/status`)).status, 'running');
});

test('raw Esc interrupts a reply in progress and the agent goes stable', async (t) => {
  const agent = await startAgent(t, { thinkMs: 10_000 });
  await waitForStatus(agent.url, 'stable');
  assert.equal((await postMessage(agent.url, { content: 'a long job', type: 'user' })).status, 200);
  assert.equal((await postMessage(agent.url, { content: '\u001b', type: 'raw' })).status, 200);
  assert.equal((await getJson(`${agent.url}/status`)).status, 'stable');
  const messages = (await getJson(`${agent.url}/messages`)).messages;
  assert.equal(messages.length, 3);
  assert.match(messages[2].content, /Interrupted/);
  // Stable again means input is accepted again.
  assert.equal((await postMessage(agent.url, { content: 'next', type: 'user' })).status, 200);
  assert.equal((await getJson(`${agent.url}/messages`)).messages.length, 4);
});
