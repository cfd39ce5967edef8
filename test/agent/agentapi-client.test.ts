import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentApiClient, AgentApiError, type AgentEvent } from '../../agent/agentapi-client';
import { defer, startAgent, waitFor } from './agent-test-helpers';

/** A hand-written AgentAPI impostor, for answers the real agent never gives. */
async function fakeServer(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(t, () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function isApiError(kind: AgentApiError['kind'], status?: number) {
  return (err: unknown): boolean => err instanceof AgentApiError && err.kind === kind && err.status === status;
}

test('client against the built-in agent: status, send, wait, read', async (t) => {
  const agent = await startAgent(t, { agentType: 'goose' });
  const calls: string[] = [];
  const client = new AgentApiClient(`${agent.url}/`, {
    fetch: (input, init) => {
      calls.push(`${init?.method ?? 'GET'} ${String(input)}`);
      return fetch(input, init);
    },
  });
  await waitFor('stable', async () => (await client.getStatus()).status === 'stable');
  assert.deepEqual(await client.getStatus(), { status: 'stable', agent_type: 'goose' });
  await client.postMessage('ship it', 'user');
  assert.equal((await client.getStatus()).status, 'running');

  const busy = await client.postMessage('again', 'user').then(
    () => assert.fail('expected a 500 while running'),
    (err: unknown) => err,
  );
  assert.ok(isApiError('http', 500)(busy));
  assert.match((busy as AgentApiError).message, /unexpected error occurred: .*waiting for user input/);
  assert.match((busy as AgentApiError).body ?? '', /waiting for user input/);

  await client.postMessage('\u0003', 'raw');
  await waitFor('stable again', async () => (await client.getStatus()).status === 'stable');
  const messages = await client.getMessages();
  assert.deepEqual(messages.map((m) => [m.id, m.role]), [
    [0, 'agent'],
    [1, 'user'],
    [2, 'agent'],
  ]);
  assert.equal(messages[1].content, 'ship it');
  assert.ok(!('$schema' in messages[0]));
  assert.ok(calls.every((c) => !c.includes('//status') && !c.includes('//message')), calls.join('\n'));
});

test('transport errors: refused connection and timeout', async (t) => {
  const gone = await startAgent(t);
  const url = gone.url;
  await gone.close();
  await assert.rejects(new AgentApiClient(url).getStatus(), isApiError('transport'));

  const silent = await fakeServer(t, () => undefined);
  await assert.rejects(new AgentApiClient(silent, { timeoutMs: 100 }).getMessages(), isApiError('transport'));
  await assert.rejects(
    new AgentApiClient(silent, { timeoutMs: 100 }).subscribeEvents(() => undefined, new AbortController().signal),
    (err: unknown) => isApiError('transport')(err) && /no response within 100 ms/.test((err as Error).message),
  );
});

test('answers that break the schema are protocol errors, plain-text errors keep their body', async (t) => {
  const url = await fakeServer(t, (req, res) => {
    if (req.url === '/status') return res.end('{"status":"busy","agent_type":"x"}');
    if (req.url === '/messages') return res.end('{"messages":[{"id":0,"content":"","role":"assistant","time":"t"}]}');
    res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Invalid host header. Allowed hosts: localhost\n');
  });
  const client = new AgentApiClient(url);
  await assert.rejects(client.getStatus(), (err: unknown) => isApiError('protocol')(err) && /status/.test(String(err)));
  await assert.rejects(client.getMessages(), (err: unknown) => isApiError('protocol')(err) && /messages\.0\.role/.test(String(err)));
  await assert.rejects(
    client.postMessage('x', 'user'),
    (err: unknown) => isApiError('http', 400)(err) && /Invalid host header/.test((err as AgentApiError).body ?? ''),
  );
});

test('the event stream survives awkward chunking, comments and unknown events', async (t) => {
  const update = (id: number, message: string) =>
    `event: message_update\ndata: ${JSON.stringify({ id, role: 'agent', message, time: '2026-01-01T00:00:00Z' })}`;
  const stream = [
    ': a comment\r\n\r\n',
    `${update(0, 'héllo ✓ wörld')}\r\n\r\n`,
    'event: agent_error\ndata: {"message":"restore failed","level":"warning","time":"t"}\n\n',
    'event: screen\ndata: {"screen":"x"}\n\n',
    'id: 7\nretry: 10\nevent: status_change\ndata: {"status":"stable","agent_type":"claude"}\n\n',
    `${update(1, 'line one\nline two')}\n\n`,
  ].join('');
  const bytes = Buffer.from(stream, 'utf8');
  const url = await fakeServer(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    // Three-byte writes split UTF-8 sequences, CRLF pairs and field names.
    let offset = 0;
    const tick = setInterval(() => {
      if (offset >= bytes.length) return clearInterval(tick);
      res.write(bytes.subarray(offset, offset + 3));
      offset += 3;
    }, 0);
    res.on('close', () => clearInterval(tick));
  });

  const events: AgentEvent[] = [];
  const ctrl = new AbortController();
  const done = new AgentApiClient(url).subscribeEvents((e) => events.push(e), ctrl.signal);
  await waitFor('all events', () => events.length === 3);
  ctrl.abort();
  await done;
  assert.deepEqual(events, [
    { type: 'message_update', id: 0, role: 'agent', message: 'héllo ✓ wörld', time: '2026-01-01T00:00:00Z' },
    { type: 'status_change', status: 'stable', agent_type: 'claude' },
    { type: 'message_update', id: 1, role: 'agent', message: 'line one\nline two', time: '2026-01-01T00:00:00Z' },
  ]);
});

test('an oversized event or a non-2xx /events is an error, not a hang', async (t) => {
  const url = await fakeServer(t, (req, res) => {
    if (req.headers['x-test'] === 'down') return res.writeHead(503).end('down');
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.write(`event: message_update\ndata: ${'x'.repeat(5000)}`);
  });
  const signal = new AbortController().signal;
  await assert.rejects(
    new AgentApiClient(url, { maxEventSize: 1000 }).subscribeEvents(() => undefined, signal),
    (err: unknown) => isApiError('protocol')(err) && /larger than 1000/.test(String(err)),
  );
  const down = new AgentApiClient(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as object), 'x-test': 'down' } }),
  });
  await assert.rejects(down.subscribeEvents(() => undefined, signal), isApiError('http', 503));
});

test('aborting before or during a subscription resolves quietly', async (t) => {
  const agent = await startAgent(t);
  const client = new AgentApiClient(agent.url);
  const pre = new AbortController();
  pre.abort();
  await client.subscribeEvents(() => assert.fail('no events after abort'), pre.signal);

  const ctrl = new AbortController();
  let seen = 0;
  const done = client.subscribeEvents(() => seen++, ctrl.signal);
  await waitFor('replay', () => seen >= 2);
  ctrl.abort();
  await done;
});

test('an exception from the event handler ends the subscription with that exception', async (t) => {
  const agent = await startAgent(t);
  const boom = new Error('handler failed');
  await assert.rejects(
    new AgentApiClient(agent.url).subscribeEvents(() => {
      throw boom;
    }, new AbortController().signal),
    (err: unknown) => err === boom,
  );
});
