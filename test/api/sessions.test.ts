// Sessions over HTTP: password login and its rate limit, the three token carriers, every kind of
// 401, logout, and API keys.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSecondApi, startTestStack, type TestStack } from '../helpers/stack';
import { OWNER_PASSWORD, createUserWithToken, setupOwner } from '../helpers/fixtures';
import { parseTrustedProxies } from '../../domain/trusted-proxies';
import { scryptCost } from '../../api/auth/passwords';
import { scryptSync } from 'node:crypto';

const SIGNED_OUT = 'You are signed out or your session has expired. Please sign in again to continue.';
const TOKEN_FORMAT = /^[A-Za-z0-9]{10}-[A-Za-z0-9]{22,}$/;

let stack: TestStack;
let owner: Awaited<ReturnType<typeof setupOwner>>;

async function sql(query: string, params: unknown[] = []): Promise<any[]> {
  return stack.orm.em.fork().getConnection().execute(query, params);
}

before(async () => {
  stack = await startTestStack({ worker: false });
  owner = await setupOwner(stack);
});
after(async () => {
  await stack?.close();
});

describe('login and sessions', () => {
  test('login returns a Coder-format session token and sets the session cookie', async () => {
    const res = await stack.api('POST', '/api/v2/users/login', {
      body: { email: 'OWNER@example.com', password: OWNER_PASSWORD },
    });
    assert.equal(res.status, 201);
    assert.match(res.body.session_token, TOKEN_FORMAT);
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, new RegExp(`coder_session_token=${res.body.session_token}`));
    assert.match(cookie, /HttpOnly/i);
  });

  test('wrong password and unknown email get the same 401', async () => {
    for (const body of [
      { email: 'owner@example.com', password: 'wrong-password' },
      { email: 'nobody@example.com', password: 'wrong-password' },
    ]) {
      const res = await stack.api('POST', '/api/v2/users/login', { body });
      assert.equal(res.status, 401);
      assert.equal(res.body.message, 'Incorrect email or password.');
    }
  });

  test('the token authenticates via header, Bearer and cookie', async () => {
    const headerRes = await stack.api('GET', '/api/v2/users/me', { headers: { 'Coder-Session-Token': owner.token } });
    const bearerRes = await stack.api('GET', '/api/v2/users/me', { headers: { Authorization: `Bearer ${owner.token}` } });
    const cookieRes = await stack.api('GET', '/api/v2/users/me', { headers: { Cookie: `coder_session_token=${owner.token}` } });
    for (const res of [headerRes, bearerRes, cookieRes]) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.id, owner.user.id);
    }
  });

  test('missing, malformed, unknown, expired tokens and suspended users get 401', async () => {
    const user = await createUserWithToken(stack, owner.token, { username: 'suspendme' });
    const expiring = await createUserWithToken(stack, owner.token, { username: 'expiring' });
    await sql(`update api_keys set expires_at = now() - interval '1 minute' where id = ?`, [expiring.token.slice(0, 10)]);
    await sql(`update users set status = 'suspended' where id = ?`, [user.user.id]);
    const [id] = owner.token.split('-');
    const cases: [string, Record<string, string>][] = [
      ['missing', {}],
      ['malformed', { 'Coder-Session-Token': 'not-a-token' }],
      ['wrong secret', { 'Coder-Session-Token': `${id}-${'x'.repeat(22)}` }],
      ['unknown id', { 'Coder-Session-Token': `ZZZZZZZZZZ-${'a'.repeat(22)}` }],
      ['expired', { 'Coder-Session-Token': expiring.token }],
      ['suspended', { 'Coder-Session-Token': user.token }],
      ['bearer without token', { Authorization: 'Bearer' }],
    ];
    for (const [name, headers] of cases) {
      const res = await stack.api('GET', '/api/v2/users/me', { headers });
      assert.equal(res.status, 401, name);
      assert.equal(res.body.message, SIGNED_OUT, name);
      assert.equal(typeof res.body.detail, 'string', name);
    }
  });

  test('a suspended user cannot log in', async () => {
    const created = await createUserWithToken(stack, owner.token, { username: 'suspended2', password: 'suspended-pass-1' });
    await sql(`update users set status = 'suspended' where id = ?`, [created.user.id]);
    const res = await stack.api('POST', '/api/v2/users/login', {
      body: { email: 'suspended2@example.com', password: 'suspended-pass-1' },
    });
    assert.equal(res.status, 401);
    assert.match(res.body.message, /suspended/);
  });

  test('logout revokes exactly the token used', async () => {
    const login = await stack.api('POST', '/api/v2/users/login', { body: { email: 'owner@example.com', password: OWNER_PASSWORD } });
    const token = login.body.session_token;
    const out = await stack.api('POST', '/api/v2/users/logout', { token });
    assert.equal(out.status, 200);
    assert.equal((await stack.api('GET', '/api/v2/users/me', { token })).status, 401);
    assert.equal((await stack.api('GET', '/api/v2/users/me', { token: owner.token })).status, 200);
  });

  test('last_used is refreshed by use, at most once a minute', async () => {
    // a key this API process has not seen yet: a cached one carries the last_used it last wrote
    const key = await stack.api('POST', '/api/v2/users/me/keys', { token: owner.token });
    assert.equal(key.status, 201);
    const token: string = key.body.key;
    const id = token.slice(0, 10);
    await sql(`update api_keys set last_used = now() - interval '2 minutes' where id = ?`, [id]);
    const [stale] = await sql('select last_used from api_keys where id = ?', [id]);
    await stack.api('GET', '/api/v2/users/me', { token });
    const [fresh] = await sql('select last_used from api_keys where id = ?', [id]);
    assert.ok(new Date(fresh.last_used).getTime() - new Date(stale.last_used).getTime() >= 120_000, 'stale last_used is refreshed');
    await sql(`update api_keys set last_used = now() - interval '10 seconds' where id = ?`, [id]);
    const [before] = await sql('select last_used from api_keys where id = ?', [id]);
    await stack.api('GET', '/api/v2/users/me', { token });
    const [after] = await sql('select last_used from api_keys where id = ?', [id]);
    assert.equal(new Date(after.last_used).getTime(), new Date(before.last_used).getTime(), 'recent last_used is left alone');
  });

  test('GET /users/authmethods offers password login without a token', async () => {
    const res = await stack.api('GET', '/api/v2/users/authmethods');
    assert.equal(res.status, 200);
    assert.equal(res.body.password.enabled, true);
    assert.equal(res.body.oidc.enabled, false);
  });

  test('only a SHA-256 of the secret is stored', async () => {
    const [id, secret] = owner.token.split('-');
    const rows = await sql('select hashed_secret, expires_at, created_at from api_keys where id = ?', [id]);
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0].hashed_secret, secret);
    assert.match(rows[0].hashed_secret, /^[0-9a-f]{64}$/);
    const lifetimeDays = (new Date(rows[0].expires_at).getTime() - new Date(rows[0].created_at).getTime()) / 86_400_000;
    assert.equal(Math.round(lifetimeDays), 7);
  });
});

describe('login rate limit', () => {
  test('five failures for an address and email block the sixth attempt, even with the right password', async () => {
    const target = await createUserWithToken(stack, owner.token, { username: 'ratelimited', password: 'right-password-1' });
    for (let i = 0; i < 5; i++) {
      const res = await stack.api('POST', '/api/v2/users/login', { body: { email: target.user.email, password: `wrong-${i}` } });
      assert.equal(res.status, 401);
    }
    const blocked = await stack.api('POST', '/api/v2/users/login', { body: { email: target.user.email, password: 'right-password-1' } });
    assert.equal(blocked.status, 429);
    assert.equal(typeof blocked.body.message, 'string');
    const retryAfter = Number(blocked.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    // another account from the same address is unaffected
    const other = await stack.api('POST', '/api/v2/users/login', { body: { email: 'owner@example.com', password: OWNER_PASSWORD } });
    assert.equal(other.status, 201);

    // a second API process on the same database enforces the same limit
    const second = await startSecondApi(stack);
    try {
      const res = await fetch(`${second.url}/api/v2/users/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: target.user.email, password: 'right-password-1' }),
      });
      assert.equal(res.status, 429, 'the failures counted by the first process block the second');
    } finally {
      await second.close();
    }
  });
});

describe('password hashes', () => {
  test('a hash made at an older, lower cost is upgraded at the next successful login', async () => {
    const user = await createUserWithToken(stack, owner.token, { username: 'oldhash', password: 'old-password-1' });
    const salt = Buffer.from('0123456789abcdef');
    const weak = `scrypt$1024$8$1$${salt.toString('base64')}$${scryptSync('old-password-1', salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64')}`;
    await sql('update users set password_hash = ? where id = ?', [weak, user.user.id]);
    const login = (password: string) => stack.api('POST', '/api/v2/users/login', { body: { email: user.user.email, password } });
    assert.equal((await login('wrong-password')).status, 401);
    assert.equal((await sql('select password_hash from users where id = ?', [user.user.id]))[0].password_hash, weak, 'a failed login changes nothing');
    assert.equal((await login('old-password-1')).status, 201);
    const [{ password_hash: upgraded }] = await sql('select password_hash from users where id = ?', [user.user.id]);
    assert.notEqual(upgraded, weak);
    assert.match(upgraded, new RegExp(`^scrypt\\$${scryptCost().N}\\$8\\$1\\$`));
    assert.equal((await login('old-password-1')).status, 201, 'the same password works with the new hash');
  });
});

describe('login throttling that cannot be raced or aimed at another address', () => {
  const login = (email: string, password: string, headers: Record<string, string> = {}) =>
    stack.api('POST', '/api/v2/users/login', { body: { email, password }, headers });

  test('15 concurrent bad logins: exactly 5 are checked, the rest are refused', async () => {
    const target = await createUserWithToken(stack, owner.token, { username: 'raced', password: 'right-password-2' });
    const answers = await Promise.all(Array.from({ length: 15 }, (_, i) => login(target.user.email, `wrong-${i}`)));
    assert.equal(answers.filter((r) => r.status === 401).length, 5);
    assert.equal(answers.filter((r) => r.status === 429).length, 10);
  });

  test('X-Forwarded-For is ignored unless the peer is a trusted proxy, and then names the client', async () => {
    const victim = await createUserWithToken(stack, owner.token, { username: 'victim', password: 'right-password-3' });
    // forging the header does not give an attacker fresh addresses
    for (let i = 0; i < 5; i++) assert.equal((await login(victim.user.email, 'wrong', { 'X-Forwarded-For': `198.51.100.${i}` })).status, 401);
    assert.equal((await login(victim.user.email, 'wrong', { 'X-Forwarded-For': '198.51.100.99' })).status, 429);
    await sql('delete from login_failures');

    // behind a proxy the operator lists, each client is counted on its own address
    const proxied = await startSecondApi(stack, { ...stack.config, http: { ...stack.config.http, trustedProxies: parseTrustedProxies('127.0.0.1, ::1') } });
    const viaProxy = (client: string, password: string) =>
      fetch(`${proxied.url}/api/v2/users/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': `${client}, 127.0.0.1` },
        body: JSON.stringify({ email: victim.user.email, password }),
      });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await viaProxy('203.0.113.5', 'wrong')).status, 401);
      assert.equal((await viaProxy('203.0.113.5', 'right-password-3')).status, 429, 'the attacker is throttled');
      assert.equal((await viaProxy('198.51.100.7', 'right-password-3')).status, 201, 'the victim, from their own address, is not');
      const [row] = await sql("select ip from audit_logs where action = 'login' and status_code = 201 order by time desc limit 1");
      assert.equal(row.ip, '198.51.100.7', 'the audit log names the client, not the proxy');
    } finally {
      await proxied.close();
    }
  });
});

describe('API keys', () => {
  test('POST /users/me/keys returns a working key with a 30-day lifetime', async () => {
    const res = await stack.api('POST', '/api/v2/users/me/keys', { token: owner.token });
    assert.equal(res.status, 201);
    assert.match(res.body.key, TOKEN_FORMAT);
    const me = await stack.api('GET', '/api/v2/users/me', { token: res.body.key });
    assert.equal(me.body.id, owner.user.id);
    const rows = await sql('select expires_at, created_at, login_type from api_keys where id = ?', [res.body.key.slice(0, 10)]);
    assert.equal(Math.round((new Date(rows[0].expires_at).getTime() - new Date(rows[0].created_at).getTime()) / 86_400_000), 30);
    assert.equal(rows[0].login_type, 'token');
  });

  test('a member cannot mint keys for someone else (404); the site owner can', async () => {
    const bob = await createUserWithToken(stack, owner.token, { username: 'keybob' });
    const res = await stack.api('POST', `/api/v2/users/${owner.user.id}/keys`, { token: bob.token });
    assert.equal(res.status, 404);
    const byOwner = await stack.api('POST', `/api/v2/users/keybob/keys`, { token: owner.token });
    assert.equal(byOwner.status, 201);
    assert.equal((await stack.api('GET', '/api/v2/users/me', { token: byOwner.body.key })).body.username, 'keybob');
  });

  test('named tokens honour lifetime (Go nanoseconds) and unique names', async () => {
    const oneHour = 3600 * 1e9;
    const res = await stack.api('POST', '/api/v2/users/me/keys/tokens', {
      token: owner.token,
      body: { token_name: 'ci', lifetime: oneHour },
    });
    assert.equal(res.status, 201);
    const rows = await sql('select expires_at, created_at, token_name from api_keys where id = ?', [res.body.key.slice(0, 10)]);
    assert.equal(rows[0].token_name, 'ci');
    assert.equal(Math.round((new Date(rows[0].expires_at).getTime() - new Date(rows[0].created_at).getTime()) / 1000), 3600);
    const dup = await stack.api('POST', '/api/v2/users/me/keys/tokens', { token: owner.token, body: { token_name: 'ci' } });
    assert.equal(dup.status, 409);
    const tooLong = await stack.api('POST', '/api/v2/users/me/keys/tokens', {
      token: owner.token,
      body: { token_name: 'long', lifetime: 400 * 86400 * 1e9 },
    });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.validations[0].field, 'lifetime');
  });
});

describe('audit', () => {
  test('logins (good and bad), logouts and key creation are audited', async () => {
    const rows = await sql('select action, resource_type, status_code from audit_logs');
    const has = (action: string, status: number) =>
      rows.some((r) => r.action === action && r.resource_type === 'api_key' && r.status_code === status);
    assert.ok(has('login', 201), 'login');
    assert.ok(has('login', 401), 'failed login');
    assert.ok(has('create', 201), 'key create');
    assert.ok(has('logout', 200), 'logout');
  });
});
