import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureLimiter } from '../../lib/rate-limit';

test('blocks after maxFailures within the window, then recovers as failures age out', () => {
  const l = new FailureLimiter({ maxFailures: 3, windowMs: 60_000 });
  l.fail('k', 0);
  l.fail('k', 10_000);
  assert.deepEqual(l.check('k', 10_000), { allowed: true });
  l.fail('k', 20_000);
  assert.deepEqual(l.check('k', 20_000), { allowed: false, retryAfterS: 40 });
  assert.deepEqual(l.check('k', 59_999), { allowed: false, retryAfterS: 1 });
  assert.deepEqual(l.check('k', 60_001), { allowed: true });
  assert.deepEqual(l.check('other', 20_000), { allowed: true }, 'keys are independent');
});

test('reset forgets a key; memory is bounded by maxKeys', () => {
  const l = new FailureLimiter({ maxFailures: 1, windowMs: 60_000, maxKeys: 2 });
  l.fail('a', 0);
  assert.equal(l.check('a', 1).allowed, false);
  l.reset('a');
  assert.equal(l.check('a', 1).allowed, true);
  l.fail('a', 1);
  l.fail('b', 2);
  l.fail('c', 3);
  assert.equal(l.check('a', 4).allowed, true, 'oldest key evicted');
  assert.equal(l.check('c', 4).allowed, false);
});
