import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestStack, type TestStack } from '../helpers/stack';
import { cliEnv, cliOk, runCli, storedToken } from './cli-helpers';

// `taskd login | whoami | logout` against the real stack: first-user setup, password and token
// logins, the credentials file and its permissions, and the environment overrides.

let stack: TestStack;

before(async () => {
  stack = await startTestStack({ worker: false });
});
after(async () => {
  await stack?.close();
});

const credentialsFile = (env: Record<string, string>) => path.join(env.XDG_CONFIG_HOME!, 'taskd', 'credentials.json');

describe('taskd login', () => {
  test('on a server without users it needs the first user; without a terminal it says which flag is missing', async () => {
    const env = cliEnv(stack.baseUrl);
    const res = await runCli(['login', stack.baseUrl, '--first-user-username', 'root'], env);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /missing email: pass --first-user-email/);
    assert.equal(fs.existsSync(credentialsFile(env)), false);
  });

  test('creates the first user from flags, logs in and stores the credentials with mode 0600', async () => {
    const env = cliEnv(stack.baseUrl);
    const res = await cliOk(
      ['login', stack.baseUrl, '--first-user-username', 'root', '--first-user-email', 'root@example.com', '--first-user-password', 'root-pass-123'],
      env,
    );
    assert.match(res.stdout, /Welcome to taskd, root!/);
    const file = credentialsFile(env);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const creds = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(creds.url, stack.baseUrl);
    const me = await stack.api('GET', '/api/v2/users/me', { token: creds.session_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.username, 'root');

    const who = await cliOk(['whoami'], env);
    assert.match(who.stdout, /as root \(root@example\.com\)/);
    const json = JSON.parse((await cliOk(['whoami', '-o', 'json'], env)).stdout);
    assert.equal(json.user.username, 'root');
  });

  test('with a user present it logs in with email and password (first-user flags are not needed)', async () => {
    const env = cliEnv(stack.baseUrl);
    const res = await cliOk(['login', stack.baseUrl, '--email', 'root@example.com', '--password', 'root-pass-123'], env);
    assert.match(res.stdout, /Welcome to taskd, root!/);
    assert.equal(fs.statSync(credentialsFile(env)).mode & 0o777, 0o600);
  });

  test('a wrong password prints the server message and stores nothing', async () => {
    const env = cliEnv(stack.baseUrl);
    const res = await runCli(['login', stack.baseUrl, '--email', 'root@example.com', '--password', 'wrong-password'], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /log in: Incorrect email or password\./);
    assert.equal(fs.existsSync(credentialsFile(env)), false);
  });

  test('without a terminal and without --email it refuses clearly instead of waiting', async () => {
    const env = cliEnv(stack.baseUrl);
    const res = await runCli(['login', stack.baseUrl], env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /missing email: pass --email/);
  });

  test('--token logs in with an existing API key; a bad token is refused with the server message', async () => {
    const first = cliEnv(stack.baseUrl);
    await cliOk(['login', stack.baseUrl, '--email', 'root@example.com', '--password', 'root-pass-123'], first);
    const key = await stack.api('POST', '/api/v2/users/me/keys', { token: storedToken(first) });
    assert.equal(key.status, 201);

    const env = cliEnv(stack.baseUrl);
    await cliOk(['login', stack.baseUrl, '--token', key.body.key], env);
    assert.equal(storedToken(env), key.body.key);
    assert.match((await cliOk(['whoami'], env)).stdout, /as root/);

    const bad = await runCli(['login', stack.baseUrl, '--token', 'not-a-token'], cliEnv(stack.baseUrl));
    assert.equal(bad.code, 1);
    // the server's message, then its detail on the next line
    assert.match(bad.stderr, /check the session token: \S.*\n {2}\S/);
  });

  test('TASKD_SESSION_TOKEN and TASKD_URL override the stored credentials', async () => {
    const owner = cliEnv(stack.baseUrl);
    await cliOk(['login', stack.baseUrl, '--email', 'root@example.com', '--password', 'root-pass-123'], owner);
    // no credentials file at all: the environment alone is enough
    const env = cliEnv(stack.baseUrl, { TASKD_SESSION_TOKEN: storedToken(owner) });
    assert.match((await cliOk(['whoami'], env)).stdout, /as root/);
    // a stored login is overridden by a (bad) token from the environment
    const overridden = { ...owner, TASKD_SESSION_TOKEN: 'bogus' };
    const res = await runCli(['whoami'], overridden);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /get the current user: \S/);
    assert.match(res.stderr, /run "taskd login <url>" again/);
  });

  test('logout revokes the token and removes the file; commands then ask to log in', async () => {
    const env = cliEnv(stack.baseUrl);
    await cliOk(['login', stack.baseUrl, '--email', 'root@example.com', '--password', 'root-pass-123'], env);
    const token = storedToken(env);
    assert.match((await cliOk(['logout'], env)).stdout, /no longer logged in/);
    assert.equal(fs.existsSync(credentialsFile(env)), false);
    assert.equal((await stack.api('GET', '/api/v2/users/me', { token })).status, 401);
    const res = await runCli(['task', 'list'], { ...env, TASKD_URL: '' });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /You are not logged in\. Run "taskd login <url>"/);
  });

  test('an unreachable server is reported as such', async () => {
    const res = await runCli(['login', 'http://127.0.0.1:9', '--email', 'a@b.c', '--password', 'x'], cliEnv(stack.baseUrl));
    assert.equal(res.code, 1);
    assert.match(res.stderr, /could not reach http:\/\/127\.0\.0\.1:9/);
  });

  test('--help works for login, logout and whoami', async () => {
    const cmds = ['login', 'logout', 'whoami'];
    const pages = await Promise.all(cmds.map((cmd) => cliOk([cmd, '--help'], cliEnv(stack.baseUrl))));
    cmds.forEach((cmd, i) => assert.match(pages[i]!.stdout, new RegExp(`^Usage: taskd ${cmd}`)));
  });
});
