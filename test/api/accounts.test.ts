// Accounts over HTTP: first-user setup, user creation and lookup, and the request-level rules every
// route shares (alias prefix, JSON errors, body limit, buildinfo, docs). Sessions: sessions.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestStack, type TestStack } from '../helpers/stack';
import { OWNER_PASSWORD, createUserWithToken, setupOwner } from '../helpers/fixtures';
import { CODER_VERSION } from '../../compat/coder/binaries';

let stack: TestStack;
let owner: Awaited<ReturnType<typeof setupOwner>>;

function postWithoutKeepAlive(path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${stack.baseUrl}${path}`,
      { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    // the server may close while we are still writing; the response has already arrived by then
    req.on('error', reject);
    req.end(body);
  });
}

async function sql(query: string, params: unknown[] = []): Promise<any[]> {
  return stack.orm.em.fork().getConnection().execute(query, params);
}

before(async () => {
  stack = await startTestStack({ worker: false });
});
after(async () => {
  await stack?.close();
});

describe('first user', () => {
  test('GET /users/first is 404 before any user exists, with the build-version header', async () => {
    const res = await stack.api('GET', '/api/v2/users/first');
    assert.equal(res.status, 404);
    assert.ok(res.headers.get('x-coder-build-version'), 'Coder SDKs require the header on this 404');
    assert.equal(typeof res.body.message, 'string');
  });

  test('POST /users/first validates every field', async () => {
    const res = await stack.api('POST', '/api/v2/users/first', {
      body: { email: 'not-an-email', username: '-bad-', password: 'short' },
    });
    assert.equal(res.status, 400);
    const fields = res.body.validations.map((v: { field: string }) => v.field).sort();
    assert.deepEqual(fields, ['email', 'password', 'username']);
  });

  test('POST /users/first creates the site owner and the default organization', async () => {
    owner = await setupOwner(stack);
    assert.deepEqual(
      owner.user.roles.map((r) => r.name),
      ['owner'],
    );
    assert.deepEqual(owner.user.organization_ids, [owner.org.id]);
    assert.equal(owner.org.is_default, true);
    assert.equal(owner.user.email, 'owner@example.com');
    assert.equal(owner.user.status, 'active');
    assert.equal(owner.user.login_type, 'password');
    const members = await stack.api('GET', `/api/v2/organizations/${owner.org.id}/members`, { token: owner.token });
    assert.deepEqual(
      members.body[0].roles.map((r: { name: string }) => r.name),
      ['organization-admin'],
    );
  });

  test('a second POST /users/first is 409', async () => {
    const res = await stack.api('POST', '/api/v2/users/first', {
      body: { email: 'other@example.com', username: 'other', password: 'other-password-1' },
    });
    assert.equal(res.status, 409);
    assert.equal(res.body.message, 'The initial user has already been created.');
  });

  test('GET /users/first is 200 once a user exists', async () => {
    const res = await stack.api('GET', '/api/v2/users/first');
    assert.equal(res.status, 200);
  });

  test('the default organization is also reachable as "default"', async () => {
    const res = await stack.api('GET', '/api/v2/organizations/default', { token: owner.token });
    assert.equal(res.status, 200);
    assert.equal(res.body.id, owner.org.id);
  });
});

describe('POST /users', () => {
  test('creates a member of the default organization', async () => {
    const res = await stack.api('POST', '/api/v2/users', {
      token: owner.token,
      body: { email: 'carl@example.com', username: 'carl', name: 'Carl', password: 'carl-password-1' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.username, 'carl');
    assert.equal(res.body.name, 'Carl');
    assert.deepEqual(res.body.organization_ids, [owner.org.id]);
    assert.deepEqual(res.body.roles, []);
    const login = await stack.api('POST', '/api/v2/users/login', { body: { email: 'carl@example.com', password: 'carl-password-1' } });
    assert.equal(login.status, 201);
  });

  test('duplicate username or email (any case) is 409 naming the field', async () => {
    const byName = await stack.api('POST', '/api/v2/users', {
      token: owner.token,
      body: { email: 'carl2@example.com', username: 'CARL', password: 'carl-password-1' },
    });
    assert.equal(byName.status, 409);
    assert.deepEqual(
      byName.body.validations.map((v: { field: string }) => v.field),
      ['username'],
    );
    const byEmail = await stack.api('POST', '/api/v2/users', {
      token: owner.token,
      body: { email: 'Carl@Example.com', username: 'carl2', password: 'carl-password-1' },
    });
    assert.equal(byEmail.status, 409);
    assert.deepEqual(
      byEmail.body.validations.map((v: { field: string }) => v.field),
      ['email'],
    );
  });

  test('rejects invalid input with per-field validations', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ email: 'x@example.com', username: 'me', password: 'long-enough-1' }, 'username'],
      [{ email: 'x@example.com', username: '3f2504e0-4f89-11d3-9a0c-0305e82c3301', password: 'long-enough-1' }, 'username'],
      [{ email: 'x@example.com', username: 'a'.repeat(33), password: 'long-enough-1' }, 'username'],
      [{ email: 'x@example.com', username: 'under_score', password: 'long-enough-1' }, 'username'],
      [{ email: 'nope', username: 'okname', password: 'long-enough-1' }, 'email'],
      [{ email: 'x@example.com', username: 'okname', password: 'short' }, 'password'],
      [{ email: 'x@example.com', username: 'okname' }, 'password'],
      [{ email: 'x@example.com', username: 'okname', password: 'long-enough-1', organization_ids: ['nope'] }, 'organization_ids.0'],
    ];
    for (const [body, field] of cases) {
      const res = await stack.api('POST', '/api/v2/users', { token: owner.token, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.ok(
        res.body.validations.some((v: { field: string }) => v.field === field),
        `${field} in ${JSON.stringify(res.body.validations)}`,
      );
    }
  });

  test('an unknown organization id is 400', async () => {
    const res = await stack.api('POST', '/api/v2/users', {
      token: owner.token,
      body: {
        email: 'y@example.com',
        username: 'yname',
        password: 'long-enough-1',
        organization_ids: ['3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
      },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.validations[0].field, 'organization_ids');
  });

  test('only the site owner may create users', async () => {
    const member = await createUserWithToken(stack, owner.token, { username: 'plainmember' });
    const res = await stack.api('POST', '/api/v2/users', {
      token: member.token,
      body: { email: 'z@example.com', username: 'zname', password: 'long-enough-1' },
    });
    assert.equal(res.status, 403);
    assert.equal((await stack.api('POST', '/api/v2/users', { body: { email: 'z@example.com' } })).status, 401);
  });

  test('GET /users/{user} resolves "me", ids and usernames (case-insensitively)', async () => {
    for (const ref of ['me', owner.user.id, 'OWNER']) {
      const res = await stack.api('GET', `/api/v2/users/${ref}`, { token: owner.token });
      assert.equal(res.status, 200, ref);
      assert.equal(res.body.id, owner.user.id);
    }
    assert.equal((await stack.api('GET', '/api/v2/users/ghost', { token: owner.token })).status, 404);
  });

  test('GET /users/me/organizations lists the caller\'s organizations', async () => {
    const res = await stack.api('GET', '/api/v2/users/me/organizations', { token: owner.token });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.map((o: { id: string }) => o.id),
      [owner.org.id],
    );
  });
});

describe('request rules shared by every route', () => {
  test('routes are also served under /api/experimental', async () => {
    const res = await stack.api('GET', '/api/experimental/users/me', { token: owner.token });
    assert.equal(res.status, 200);
    assert.equal(res.body.id, owner.user.id);
  });

  test('malformed JSON is 400 "Request body must be valid JSON."', async () => {
    const res = await stack.api('POST', '/api/v2/users/login', { rawBody: '{"email": ' });
    assert.equal(res.status, 400);
    assert.equal(res.body.message, 'Request body must be valid JSON.');
    const authed = await stack.api('POST', '/api/v2/users', { token: owner.token, rawBody: 'not json' });
    assert.equal(authed.status, 400);
    assert.equal(authed.body.message, 'Request body must be valid JSON.');
  });

  test('an oversized body is 413 in the envelope', async () => {
    const huge = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(stack.config.http.maxBodyBytes + 10) });
    // a throwaway connection: the server answers before reading the whole body and closes it
    const res = await postWithoutKeepAlive('/api/v2/users/login', huge);
    assert.equal(res.status, 413);
    assert.equal(typeof JSON.parse(res.body).message, 'string');
  });

  test('a JSON body sent with another Content-Type is decoded as JSON, as Coder does (curl -d)', async () => {
    const res = await stack.api('POST', '/api/v2/users/login', {
      rawBody: JSON.stringify({ email: 'owner@example.com', password: OWNER_PASSWORD }),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(typeof res.body.session_token, 'string');
    const garbage = await stack.api('POST', '/api/v2/users/login', {
      rawBody: 'email=a&password=b',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(garbage.status, 400);
    assert.equal(garbage.body.message, 'Request body must be valid JSON.');
  });

  test('GET /buildinfo needs no token and reports Coder-compatible fields', async () => {
    const res = await stack.api('GET', '/api/v2/buildinfo');
    assert.equal(res.status, 200);
    // the Coder release the compatibility tier checks against: its CLI warns when major.minor differ
    assert.ok(res.body.version.startsWith(`${CODER_VERSION}+taskd.`), res.body.version);
    assert.equal(res.body.workspace_proxy, false);
    assert.equal(res.body.dashboard_url, stack.config.http.accessUrl);
    assert.equal(typeof res.body.agent_api_version, 'string');
    assert.equal(typeof res.body.external_url, 'string');
    assert.equal(res.headers.get('x-coder-build-version'), res.body.version);
  });

  test('the docs page and the OpenAPI document are served', async () => {
    const page = await stack.api('GET', '/api/v2/docs');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.body, /openapi\.json/);
    assert.doesNotMatch(page.body, /https?:\/\/(?!127)/, 'no external assets: the page must work offline');
    const doc = await stack.api('GET', '/api/v2/openapi.json');
    assert.equal(doc.status, 200);
    for (const p of ['/users/login', '/users/first', '/users/{user}/keys', '/organizations/{organization}/templates', '/buildinfo']) {
      assert.ok(doc.body.paths[p], p);
    }
    assert.ok(doc.body.components.securitySchemes.CoderSessionToken);
    assert.ok(doc.body.paths['/users/login'].post.requestBody.content['application/json'].schema);
  });
});

describe('audit', () => {
  test('user creation is audited with the acting user', async () => {
    const rows = await sql(`select user_id, resource_target, status_code from audit_logs where action = 'create' and resource_type = 'user'`);
    assert.ok(rows.some((r) => r.resource_target === 'owner' && r.user_id === owner.user.id && r.status_code === 201), 'first user');
    assert.ok(rows.some((r) => r.resource_target === 'carl' && r.user_id === owner.user.id), 'POST /users by the owner');
  });
});

describe('icons as long as the database holds (found by schemathesis: 256 characters was a 500)', () => {
  test('an organization or template icon of 255 characters is stored, 256 is a 400', async () => {
    const ok = await stack.api('POST', '/api/v2/organizations', { token: owner.token, body: { name: 'iconic', icon: 'i'.repeat(255) } });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const long = await stack.api('POST', '/api/v2/organizations', { token: owner.token, body: { name: 'iconic-2', icon: 'i'.repeat(256) } });
    assert.equal(long.status, 400, JSON.stringify(long.body));
    assert.equal(long.body.validations[0].field, 'icon');
  });
});

describe('a known path asked with a method it lacks', () => {
  test('is 405 with the methods it has in Allow (the most specific route), an unknown path stays 404', async () => {
    const cases: [string, string, string][] = [
      ['PATCH', '/api/v2/buildinfo', 'GET, HEAD'],
      ['OPTIONS', '/api/v2/tasks/watch', 'GET, HEAD'],
      ['DELETE', '/api/v2/users/login', 'POST'],
      ['PUT', '/api/experimental/tasks', 'GET, HEAD'],
    ];
    for (const [method, url, allow] of cases) {
      const res = await stack.api(method, url, { token: owner.token });
      assert.equal(res.status, 405, `${method} ${url}`);
      assert.equal(res.headers.get('allow'), allow, `${method} ${url}`);
      assert.equal(res.body.message, 'Method not allowed.');
    }
    const unknown = await stack.api('GET', '/api/v2/no-such-thing', { token: owner.token });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.message, 'Route not found.');
  });
});
