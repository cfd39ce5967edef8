import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { rawRequest, startAgent } from './agent-test-helpers';

test('the Host allow-list rejects foreign hosts with plain text, ignoring port and case', async (t) => {
  const agent = await startAgent(t);
  const denied = await rawRequest(agent.url, '/status', { headers: { Host: 'evil.example:3284' } });
  assert.equal(denied.status, 400);
  assert.match(String(denied.headers['content-type']), /^text\/plain/);
  assert.equal(denied.body.trim(), 'Invalid host header. Allowed hosts: localhost, 127.0.0.1, [::1]');

  // The check runs before routing, so even unknown paths and OPTIONS get the 400.
  const preflight = await rawRequest(agent.url, '/nope', { method: 'OPTIONS', headers: { Host: 'evil.example' } });
  assert.equal(preflight.status, 400);

  for (const host of ['LOCALHOST:9999', '127.0.0.1', '[::1]:3284']) {
    const ok = await rawRequest(agent.url, '/status', { headers: { Host: host } });
    assert.equal(ok.status, 200, host);
  }
});

test('allowedHosts "*" and custom lists', async (t) => {
  const open = await startAgent(t, { allowedHosts: '*' });
  assert.equal((await rawRequest(open.url, '/status', { headers: { Host: 'coder.example.com' } })).status, 200);
  const custom = await startAgent(t, { allowedHosts: ['app.example.com'] });
  assert.equal((await rawRequest(custom.url, '/status', { headers: { Host: 'APP.example.com:80' } })).status, 200);
  const denied = await rawRequest(custom.url, '/status', { headers: { Host: 'localhost' } });
  assert.equal(denied.status, 400);
  assert.equal(denied.body.trim(), 'Invalid host header. Allowed hosts: app.example.com');
});

test('$schema switches to https for non-local hosts', async (t) => {
  const agent = await startAgent(t, { allowedHosts: '*' });
  const res = await rawRequest(agent.url, '/status', { headers: { Host: 'agent.example.com' } });
  assert.equal(JSON.parse(res.body).$schema, 'https://agent.example.com/schemas/StatusResponseBody.json');
  assert.equal(res.headers.link, '</schemas/StatusResponseBody.json>; rel="describedBy"');
});

test('CORS answers preflights for allowed origins only', async (t) => {
  const agent = await startAgent(t);
  const preflight = await rawRequest(agent.url, '/message', {
    method: 'OPTIONS',
    headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST' },
  });
  assert.equal(preflight.status, 200);
  assert.equal(preflight.headers['access-control-allow-origin'], 'http://localhost:3000');
  assert.equal(preflight.headers['access-control-max-age'], '300');
  const foreign = await rawRequest(agent.url, '/status', { headers: { Origin: 'http://evil.example' } });
  assert.equal(foreign.status, 200);
  assert.equal(foreign.headers['access-control-allow-origin'], undefined);
});

test('/ redirects to the chat UI; unknown paths 404; wrong methods 405', async (t) => {
  const agent = await startAgent(t);
  const root = await rawRequest(agent.url, '/');
  assert.equal(root.status, 307);
  assert.equal(root.headers.location, '/chat/embed');
  const based = await startAgent(t, { chatBasePath: '/@me/ws.main/apps/claude/chat' });
  assert.equal((await rawRequest(based.url, '/')).headers.location, '/@me/ws.main/apps/claude/chat/embed');
  assert.equal((await rawRequest(agent.url, '/nope')).status, 404);
  const wrong = await rawRequest(agent.url, '/status', { method: 'POST' });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.allow, 'GET');
});

test('upload saves the file under agentapi-uploads-*/<sha256 prefix>/<basename>', async (t) => {
  const agent = await startAgent(t);
  const content = Buffer.from('binary\u0000data \u00e9');
  const form = new FormData();
  form.append('file', new Blob([content]), '../../etc/notes.txt');
  const res = await fetch(`${agent.url}/upload`, { method: 'POST', body: form });
  assert.equal(res.status, 200);
  const json: any = await res.json();
  assert.equal(json.ok, true);
  assert.match(json.$schema, /UploadResponseBody\.json$/);
  assert.equal(basename(json.filePath), 'notes.txt');
  const digest = createHash('sha256').update(content).digest('hex').slice(0, 16);
  assert.equal(basename(dirname(json.filePath)), digest);
  assert.match(basename(dirname(dirname(json.filePath))), /^agentapi-uploads-/);
  assert.deepEqual(await readFile(json.filePath), content);

  // The upload directory belongs to the server's lifetime.
  await agent.close();
  await assert.rejects(stat(json.filePath), { code: 'ENOENT' });
});

test('upload without a file part, or not multipart, is a 422', async (t) => {
  const agent = await startAgent(t);
  const form = new FormData();
  form.append('other', 'value');
  const missing = await fetch(`${agent.url}/upload`, { method: 'POST', body: form });
  assert.equal(missing.status, 422);
  assert.equal(missing.headers.get('content-type'), 'application/problem+json');
  assert.equal(((await missing.json()) as any).detail, 'validation failed');
  const json = await fetch(`${agent.url}/upload`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
  assert.equal(json.status, 422);
});

test('upload over 10 MiB is a 400', async (t) => {
  const agent = await startAgent(t);
  const form = new FormData();
  form.append('file', new Blob([Buffer.alloc(10 * 1024 * 1024 + 1)]), 'big.bin');
  const res = await fetch(`${agent.url}/upload`, { method: 'POST', body: form });
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as any).detail, 'file size exceeds 10MB limit');
});
