// Cross-site request forgery, attacked the ways a hostile page can: forms (text/plain, urlencoded,
// multipart) with the victim's cookie from another site, from another port of the same host, from
// an opaque "null" origin, and cookie writes with no browser evidence at all; login forged from
// another site. And the clients that must keep working unchanged: header and Bearer tokens with no
// Origin and curl's form content type, the README's curl login and first-user calls, and the
// dashboard's same-origin JSON requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { OWNER_PASSWORD, createAiTemplate, createUserWithToken, type OrganizationJson, type TemplateVersionJson } from '../helpers/fixtures';
import { sql } from '../helpers/task-rows';

type Member = Awaited<ReturnType<typeof createUserWithToken>>;
let stack: TestStack;
let world: { alice: Member; bob: Member; org: OrganizationJson; version: TemplateVersionJson };
let self: string;

before(async () => {
  // as behind a TLS proxy: the public URL is not the address the API listens on
  stack = await startTestStack({ env: { TASKD_ACCESS_URL: 'https://taskd.example' } });
  // the first user is created as the README does it: curl -d, so a form content type and no Origin
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const credentials = JSON.stringify({ email: 'owner@example.com', password: OWNER_PASSWORD });
  const first = await post('/api/v2/users/first', { body: JSON.stringify({ ...JSON.parse(credentials), username: 'owner' }), headers: form });
  const { organization_id: orgId } = (await first.json()) as any;
  assert.equal(first.status, 201, orgId);
  const login = await post('/api/v2/users/login', { body: credentials, headers: form });
  assert.equal(login.status, 201);
  const { session_token: owner } = (await login.json()) as any;
  const [alice, bob] = await Promise.all(['alice', 'bob'].map((username) => createUserWithToken(stack, owner, { username })));
  const { version } = await createAiTemplate(stack, owner, orgId);
  world = { alice: alice!, bob: bob!, org: (await stack.api('GET', `/api/v2/organizations/${orgId}`, { token: owner })).body, version };
  self = new URL(stack.baseUrl).origin;
});
after(async () => {
  await stack?.close();
});

function post(path: string, o: { body?: string | FormData; headers?: Record<string, string>; method?: string }) {
  return fetch(stack.baseUrl + path, { method: o.method ?? 'POST', headers: o.headers ?? {}, body: o.body, redirect: 'manual' });
}

const cookie = (token: string) => ({ Cookie: `coder_session_token=${token}` });
const keyCount = async (userId: string) => Number((await sql(stack, 'select count(*) as n from api_keys where user_id = ?', [userId]))[0].n);
const taskCount = async (userId: string) => Number((await sql(stack, 'select count(*) as n from tasks where owner_id = ?', [userId]))[0].n);
const taskBody = () => JSON.stringify({ template_version_id: world.version.id, input: 'forged' });

async function refused(res: Response, status: number, message: RegExp): Promise<void> {
  const body = (await res.json()) as any;
  assert.equal(res.status, status, JSON.stringify(body));
  assert.match(body.message, message);
  assert.equal(typeof body.detail, 'string');
}

describe('writes signed in with the session cookie', () => {
  test('a form from another site is refused, whatever its body type, and creates nothing', async () => {
    const { alice } = world;
    const keys = await keyCount(alice.user.id);
    const forms: Record<string, string>[] = [
      { Origin: 'http://evil.example', 'Content-Type': 'text/plain' },
      { Origin: 'null', 'Content-Type': 'application/x-www-form-urlencoded' },
      { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/x-www-form-urlencoded' },
      { 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'multipart/form-data; boundary=x' },
    ];
    for (const headers of forms) {
      const res = await post('/api/v2/users/me/keys/tokens', { body: '{}', headers: { ...cookie(alice.token), ...headers } });
      await refused(res, 403, /^Cross-site request refused\.$/);
    }
    const task = await post('/api/v2/tasks/me', {
      body: taskBody(),
      headers: { ...cookie(alice.token), Origin: 'http://evil.example', 'Content-Type': 'text/plain' },
    });
    await refused(task, 403, /Cross-site/);
    assert.equal(await keyCount(alice.user.id), keys, 'no API key was minted');
    assert.equal(await taskCount(alice.user.id), 0, 'no task was created');
  });

  test('a page on another port of the same host is another origin, even with a JSON body', async () => {
    const { alice } = world;
    const port = Number(new URL(stack.baseUrl).port) + 1;
    const sameSite = { ...cookie(alice.token), 'Content-Type': 'application/json', Origin: `http://127.0.0.1:${port}` };
    await refused(await post('/api/v2/tasks/me', { body: taskBody(), headers: sameSite }), 403, /Cross-site/);
    await refused(
      await post('/api/v2/tasks/me', { body: taskBody(), headers: { ...sameSite, 'Sec-Fetch-Site': 'same-site' } }),
      403,
      /Cross-site/,
    );
    assert.equal(await taskCount(alice.user.id), 0);
  });

  test('a cookie write without any browser evidence of its origin is refused', async () => {
    const res = await post('/api/v2/users/me/keys/tokens', { body: '{}', headers: { ...cookie(world.bob.token), 'Content-Type': 'application/json' } });
    await refused(res, 403, /Cross-site/);
  });

  test('from this origin, the body must still be JSON', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/json']) {
      const res = await post('/api/v2/users/me/keys/tokens', { body: '{}', headers: { ...cookie(world.bob.token), Origin: self, 'Content-Type': type } });
      await refused(res, 415, /^Unsupported Content-Type\.$/);
    }
    const none = await post('/api/v2/users/me/keys/tokens', { body: '{}', headers: { ...cookie(world.bob.token), 'Sec-Fetch-Site': 'same-origin' } });
    await refused(none, 415, /Content-Type/);
  });

  test('every method that changes something is covered, GETs are not', async () => {
    const headers = { ...cookie(world.bob.token), Origin: 'http://evil.example', 'Content-Type': 'text/plain' };
    for (const [method, path] of [
      ['DELETE', '/api/v2/tasks/me/nothing'],
      ['PATCH', '/api/v2/tasks/me/nothing/input'],
      ['PUT', `/api/v2/organizations/${world.org.id}/members/${world.bob.user.id}/roles`],
      ['POST', '/api/v2/users/logout'],
    ]) {
      await refused(await post(path, { method, body: '{}', headers }), 403, /Cross-site/);
    }
    const read = await fetch(`${stack.baseUrl}/api/v2/users/me`, { headers: { ...cookie(world.bob.token), Origin: 'http://evil.example' } });
    assert.equal(read.status, 200);
  });

  test("the dashboard's requests pass: same-origin JSON, with or without a body", async () => {
    const { alice } = world;
    const viaOrigin = { ...cookie(alice.token), Origin: self, 'Content-Type': 'application/json' };
    const viaFetchMetadata = { ...cookie(alice.token), 'Sec-Fetch-Site': 'same-origin', Origin: self, 'Content-Type': 'application/json; charset=utf-8' };
    const created = await post('/api/v2/tasks/me', { body: JSON.stringify({ template_version_id: world.version.id, input: 'mine', name: 'mine' }), headers: viaOrigin });
    assert.equal(created.status, 201, await created.text());
    const key = await post('/api/v2/users/me/keys', { headers: viaFetchMetadata });
    assert.equal(key.status, 201, await key.text());
    // behind a proxy, the page's origin is the public URL, not the Host the API sees
    const proxied = await post('/api/v2/users/me/keys', {
      headers: { ...cookie(alice.token), Origin: 'https://taskd.example', 'Content-Type': 'application/json' },
    });
    assert.equal(proxied.status, 201, await proxied.text());
  });
});

describe('clients that send the token in a header', () => {
  test('keep working with no Origin, a hostile Origin, or curl\'s form content type', async () => {
    const { bob } = world;
    const cases: Record<string, string>[] = [
      { 'Coder-Session-Token': bob.token },
      { 'Coder-Session-Token': bob.token, 'Content-Type': 'application/x-www-form-urlencoded' },
      { Authorization: `Bearer ${bob.token}`, 'Content-Type': 'text/plain', Origin: 'http://evil.example' },
      // a header token wins over a cookie sent along, and so does its exemption
      { 'Coder-Session-Token': bob.token, ...cookie(world.alice.token), 'Sec-Fetch-Site': 'cross-site' },
    ];
    for (const [i, headers] of cases.entries()) {
      const res = await post('/api/v2/users/me/keys/tokens', { body: JSON.stringify({ token_name: `header-${i}` }), headers });
      assert.equal(res.status, 201, `${JSON.stringify(headers)}: ${await res.text()}`);
    }
    const task = await post('/api/v2/tasks/me', { body: taskBody(), headers: { 'Coder-Session-Token': bob.token, 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(task.status, 201, await task.text());
  });
});

describe('login', () => {
  const credentials = () => JSON.stringify({ email: world.bob.user.email, password: world.bob.password });

  test('a login forged from another site is refused and sets no cookie', async () => {
    const forged: Record<string, string>[] = [
      { Origin: 'http://evil.example', 'Content-Type': 'text/plain' },
      { Origin: 'null', 'Content-Type': 'text/plain' },
      { 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/x-www-form-urlencoded' },
      { 'Sec-Fetch-Site': 'same-site', Origin: `http://127.0.0.1:${Number(new URL(stack.baseUrl).port) + 1}` },
    ];
    for (const headers of forged) {
      const res = await post('/api/v2/users/login', { body: credentials(), headers });
      assert.equal(res.headers.get('set-cookie'), null);
      await refused(res, 403, /Cross-site/);
    }
  });

  test('so is a forged first-user setup', async () => {
    const res = await post('/api/v2/users/first', {
      body: JSON.stringify({ email: 'x@example.com', username: 'x', password: 'x-password-1' }),
      headers: { Origin: 'http://evil.example', 'Content-Type': 'text/plain' },
    });
    await refused(res, 403, /Cross-site/);
  });

  test("the README's curl login (form content type, no Origin) and the dashboard's login work", async () => {
    const curl = await post('/api/v2/users/login', { body: credentials(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(curl.status, 201, await curl.text());
    const page = await post('/api/v2/users/login', {
      body: credentials(),
      headers: { 'Content-Type': 'application/json', Origin: self, 'Sec-Fetch-Site': 'same-origin' },
    });
    assert.equal(page.status, 201);
    assert.match(page.headers.get('set-cookie') ?? '', /coder_session_token=/);
  });
});
