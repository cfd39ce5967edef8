// api/auth/login-throttle.ts against the real database: the sliding window, reset, what is stored, and
// that stale failures are cleaned up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityManager } from '@mikro-orm/postgresql';
import { startTestStack, type TestStack } from '../../helpers/stack';
import { sql } from '../../helpers/task-rows';
import { LoginThrottle } from '../../../api/auth/login-throttle';

let stack: TestStack;
const em = () => stack.orm.em.fork() as EntityManager;

before(async () => {
  stack = await startTestStack({ worker: false });
});
after(async () => {
  await stack?.close();
});

test('maxFailures in the window block the key until the oldest of them ages out', async () => {
  // a window long enough that a slow machine cannot age a failure out between two statements
  const throttle = new LoginThrottle({ maxFailures: 2, windowMs: 3_000 });
  const key = '10.0.0.1|window@example.com';
  assert.deepEqual(await throttle.check(em(), key), { allowed: true });
  await throttle.fail(em(), key);
  assert.deepEqual(await throttle.check(em(), key), { allowed: true }, 'one failure is not enough');
  await throttle.fail(em(), key);
  const blocked = await throttle.check(em(), key);
  assert.equal(blocked.allowed, false);
  assert.ok(!blocked.allowed && blocked.retryAfterS >= 1 && blocked.retryAfterS <= 3, JSON.stringify(blocked));
  assert.deepEqual(await throttle.check(em(), '10.0.0.2|window@example.com'), { allowed: true }, 'other keys are not affected');
  await new Promise((r) => setTimeout(r, 3_100));
  assert.deepEqual(await throttle.check(em(), key), { allowed: true }, 'the window has passed');
});

test('reset forgets a key; only a hash of the key is stored; failures out of the window are deleted', async () => {
  const throttle = new LoginThrottle({ maxFailures: 1, windowMs: 3_000 });
  const key = '10.0.0.3|secret-person@example.com';
  await throttle.fail(em(), key);
  assert.equal((await throttle.check(em(), key)).allowed, false);
  const stored = await sql<{ key_hash: string }>(stack, 'select key_hash from login_failures');
  assert.ok(stored.length >= 1 && stored.every((r) => /^[0-9a-f]{64}$/.test(r.key_hash) && !r.key_hash.includes('secret')));
  await throttle.reset(em(), key);
  assert.deepEqual(await throttle.check(em(), key), { allowed: true });

  const short = new LoginThrottle({ maxFailures: 1, windowMs: 1_000 });
  await short.fail(em(), 'stale|one@example.com');
  await new Promise((r) => setTimeout(r, 1_100));
  await short.fail(em(), 'fresh|two@example.com');
  const [{ n }] = await sql<{ n: string }>(stack, 'select count(*) as n from login_failures');
  assert.equal(Number(n), 1, 'only the fresh failure is left');
});
