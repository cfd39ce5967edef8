// Headers that protect browsers from the API's own answers: nosniff on every kind of response
// (success, each error path, the pages, their assets), no-store wherever credentials come back, and
// the API reference page locked down by a Content-Security-Policy it can live with (no inline code).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { setupOwner } from '../helpers/fixtures';

let stack: TestStack;
let owner: Awaited<ReturnType<typeof setupOwner>>;

before(async () => {
  stack = await startTestStack({ worker: false });
  owner = await setupOwner(stack);
});
after(async () => {
  await stack?.close();
});

describe('every response', () => {
  test('carries X-Content-Type-Options: nosniff and refuses framing, whatever answered it', async () => {
    const cases: [string, string, Parameters<TestStack['api']>[2]?][] = [
      ['GET', '/healthz'],
      ['GET', '/'],
      ['GET', '/web/app.js'],
      ['GET', '/web/session'],
      ['GET', '/api/v2/buildinfo'],
      ['GET', '/api/v2/users/me', { token: owner.token }],
      ['GET', '/api/v2/users/me'], // 401
      ['GET', '/api/v2/nothing-here'], // the router's 404
      ['GET', '/nothing-here'],
      ['POST', '/api/v2/users/login', { rawBody: '{"email":' }], // malformed JSON
      ['POST', '/api/v2/users/login', { body: { email: 'x' } }], // validation
      // 413; the server stops reading, so this connection is not reused
      ['POST', '/api/v2/users/login', { rawBody: 'x'.repeat(stack.config.http.maxBodyBytes + 1), headers: { Connection: 'close' } }],
      ['GET', '/api/v2/tasks/me%00'], // NUL in the URL
    ];
    for (const [method, path, opts] of cases) {
      const res = await stack.api(method, path, opts);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${method} ${path} → ${res.status}`);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', `${method} ${path}`);
    }
  });

  test('an open watch stream carries them too', async () => {
    const ctl = new AbortController();
    const res = await fetch(`${stack.baseUrl}/api/v2/tasks/watch`, { headers: { 'Coder-Session-Token': owner.token }, signal: ctl.signal });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    ctl.abort();
  });
});

describe('answers holding credentials', () => {
  test('login, first user, API keys and named tokens are sent with Cache-Control: no-store', async () => {
    const login = await stack.api('POST', '/api/v2/users/login', { body: { email: owner.user.email, password: owner.password } });
    assert.equal(login.status, 201);
    const failed = await stack.api('POST', '/api/v2/users/login', { body: { email: owner.user.email, password: 'not-the-password' } });
    assert.equal(failed.status, 401);
    const first = await stack.api('POST', '/api/v2/users/first', {
      body: { email: 'second@example.com', username: 'second', password: 'second-password-1' },
    });
    assert.equal(first.status, 409);
    const key = await stack.api('POST', '/api/v2/users/me/keys', { token: owner.token });
    assert.equal(key.status, 201);
    const named = await stack.api('POST', '/api/v2/users/me/keys/tokens', { token: owner.token, body: { token_name: 'ci' } });
    assert.equal(named.status, 201);
    for (const res of [login, failed, first, key, named]) assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  test('the dashboard keeps revalidating its assets rather than never storing them', async () => {
    const res = await stack.api('GET', '/web/app.js');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
  });
});

describe('the API reference page', () => {
  test('is sent with a CSP forbidding framing and inline code, and holds none', async () => {
    const page = await stack.api('GET', '/api/experimental/docs');
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html: string = page.body;
    // every script is a served file, and nothing runs or styles from inside the page
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    assert.ok(scripts.length > 0);
    for (const [, attrs, body] of scripts) {
      assert.match(attrs, /\bsrc="\/web\/[a-z-]+\.js"/);
      assert.equal(body.trim(), '');
    }
    assert.doesNotMatch(html, /<style\b|\son[a-z]+=|\bstyle=|javascript:/i);
  });

  test('its script and stylesheet are served as what they are', async () => {
    const html: string = (await stack.api('GET', '/api/v2/docs')).body;
    for (const [, src, type] of [
      [...html.matchAll(/src="([^"]+)"/g)].map((m) => [m[0], m[1], /^text\/javascript/] as const)[0]!,
      [...html.matchAll(/rel="stylesheet" href="([^"]+)"/g)].map((m) => [m[0], m[1], /^text\/css/] as const)[0]!,
    ]) {
      const res = await stack.api('GET', src);
      assert.equal(res.status, 200, src);
      assert.match(res.headers.get('content-type') ?? '', type);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
  });
});
