// api/auth/login-throttle.ts against the real database: the sliding window, reset, what is stored, and
// that stale failures are cleaned up. The throttle's clock is PostgreSQL's now(), so instead of
// sleeping through a window the test moves stored failures into the past: the windows are an hour
// long, and no machine is slow enough to age a failure out by itself between two statements.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityManager } from '@mikro-orm/postgresql';
import { startTestStack, type TestStack } from '../../helpers/stack';
import { sql } from '../../helpers/task-rows';
import { LoginThrottle } from '../../../api/auth/login-throttle';

let stack: TestStack;
const em = () => stack.orm.em.fork() as EntityManager;
const HOUR_MS = 3_600_000;

before(async () => {
  stack = await startTestStack({ worker: false });
});
after(async () => {
  await stack?.close();
});

/** Moves the stored failures back in time by `ms`: the oldest `count` of them, or all. */
async function age(ms: number, count?: number): Promise<void> {
  await sql(
    stack,
    `update login_failures set failed_at = failed_at - ? * interval '1 millisecond'
      where ctid in (select ctid from login_failures order by failed_at limit ?)`,
    [ms, count ?? 1_000_000],
  );
}

test('maxFailures in the window block the key until the oldest of them ages out', async () => {
  const throttle = new LoginThrottle({ maxFailures: 2, windowMs: HOUR_MS });
  const key = '10.0.0.1|window@example.com';
  await sql(stack, 'delete from login_failures');
  assert.deepEqual(await throttle.check(em(), key), { allowed: true });
  await throttle.fail(em(), key);
  assert.deepEqual(await throttle.check(em(), key), { allowed: true }, 'one failure is not enough');
  await throttle.fail(em(), key);
  const blocked = await throttle.check(em(), key);
  assert.ok(!blocked.allowed && blocked.retryAfterS > 3_500 && blocked.retryAfterS <= 3_600, JSON.stringify(blocked));
  assert.deepEqual(await throttle.check(em(), '10.0.0.2|window@example.com'), { allowed: true }, 'other keys are not affected');

  await age(30 * 60_000);
  const later = await throttle.check(em(), key);
  assert.ok(!later.allowed && later.retryAfterS > 1_700 && later.retryAfterS <= 1_800, `half an hour later: ${JSON.stringify(later)}`);
  await age(30 * 60_000, 1);
  assert.deepEqual(await throttle.check(em(), key), { allowed: true }, 'the older failure left the window, one is left');
});

test('reset forgets a key; only a hash of the key is stored; failures out of the window are deleted', async () => {
  const throttle = new LoginThrottle({ maxFailures: 1, windowMs: HOUR_MS });
  const key = '10.0.0.3|secret-person@example.com';
  await throttle.fail(em(), key);
  assert.equal((await throttle.check(em(), key)).allowed, false);
  const stored = await sql<{ key_hash: string }>(stack, 'select key_hash from login_failures');
  assert.ok(stored.length >= 1 && stored.every((r) => /^[0-9a-f]{64}$/.test(r.key_hash) && !r.key_hash.includes('secret')));
  await throttle.reset(em(), key);
  assert.deepEqual(await throttle.check(em(), key), { allowed: true });

  await sql(stack, 'delete from login_failures');
  await throttle.fail(em(), 'stale|one@example.com');
  await age(HOUR_MS);
  await throttle.fail(em(), 'fresh|two@example.com');
  const [{ n }] = await sql<{ n: string }>(stack, 'select count(*) as n from login_failures');
  assert.equal(Number(n), 1, 'only the fresh failure is left');
});
