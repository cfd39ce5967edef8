// api/auth/login-throttle.ts against the real database: each limit (account+address, address across
// accounts, account from everywhere), that a success is taken back, that concurrent attempts cannot
// slip under a limit, what is stored, and that stale rows go. The throttle's clock is PostgreSQL's
// now(), so instead of sleeping through a window the test moves stored failures into the past: the
// windows are an hour long, and no machine is slow enough to age a failure out between statements.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../../helpers/stack';
import { sql } from '../../helpers/task-rows';
import { inTransaction } from '../../../db/sql';
import { LoginThrottle, type Attempt, type LoginLimits } from '../../../api/auth/login-throttle';

let stack: TestStack;
const HOUR_MS = 3_600_000;
const WIDE = { max: 1_000, windowMs: HOUR_MS };

before(async () => {
  stack = await startTestStack({ worker: false });
});
after(async () => {
  await stack?.close();
});
beforeEach(async () => {
  await sql(stack, 'delete from login_failures');
});

const throttle = (limits: Partial<LoginLimits>) => new LoginThrottle({ accountAddress: WIDE, address: WIDE, account: WIDE, ...limits });
const attempt = (t: LoginThrottle, email: string, address: string): Promise<Attempt> =>
  inTransaction(stack.orm, (tx) => t.attempt(tx, email, address));

/** Moves the stored failures back in time by `ms`: the oldest `count` of them, or all. */
async function age(ms: number, count?: number): Promise<void> {
  await sql(
    stack,
    `update login_failures set failed_at = failed_at - ? * interval '1 millisecond'
      where ctid in (select ctid from login_failures order by failed_at limit ?)`,
    [ms, count ?? 1_000_000],
  );
}

test('account+address: past the limit that address waits until the oldest failure ages out; other addresses do not', async () => {
  const t = throttle({ accountAddress: { max: 2, windowMs: HOUR_MS } });
  assert.equal((await attempt(t, 'v@example.com', '10.0.0.1')).allowed, true);
  assert.equal((await attempt(t, 'V@example.com', '10.0.0.1')).allowed, true, 'emails compare case-insensitively');
  const blocked = await attempt(t, 'v@example.com', '10.0.0.1');
  assert.ok(!blocked.allowed && blocked.retryAfterS > 3_500 && blocked.retryAfterS <= 3_600, JSON.stringify(blocked));
  assert.equal((await attempt(t, 'v@example.com', '10.0.0.2')).allowed, true, "the user's own address is not locked out");
  await age(30 * 60_000);
  const later = await attempt(t, 'v@example.com', '10.0.0.1');
  assert.ok(!later.allowed && later.retryAfterS > 1_700 && later.retryAfterS <= 1_800, `half an hour later: ${JSON.stringify(later)}`);
  await age(30 * 60_000, 6); // the first two attempts' rows (three keys each)
  assert.equal((await attempt(t, 'v@example.com', '10.0.0.1')).allowed, true, 'the older failures left the window');
});

test('a success is taken back and clears the account+address count', async () => {
  const t = throttle({ accountAddress: { max: 2, windowMs: HOUR_MS } });
  assert.equal((await attempt(t, 'w@example.com', '10.0.0.1')).allowed, true);
  const right = await attempt(t, 'w@example.com', '10.0.0.1');
  assert.ok(right.allowed);
  await t.succeeded(stack.orm.em.fork(), right);
  assert.equal((await attempt(t, 'w@example.com', '10.0.0.1')).allowed, true);
  assert.equal((await attempt(t, 'w@example.com', '10.0.0.1')).allowed, true, 'the failure before the success was forgotten');
  assert.equal((await attempt(t, 'w@example.com', '10.0.0.1')).allowed, false);
});

test('one address spraying many emails is limited across accounts', async () => {
  const t = throttle({ address: { max: 3, windowMs: HOUR_MS } });
  for (const n of [1, 2, 3]) assert.equal((await attempt(t, `u${n}@example.com`, '10.0.0.9')).allowed, true);
  assert.equal((await attempt(t, 'u4@example.com', '10.0.0.9')).allowed, false);
  assert.equal((await attempt(t, 'u4@example.com', '10.0.0.10')).allowed, true);
});

test('an account under attack from many addresses refuses those that failed, never a fresh one', async () => {
  const t = throttle({ account: { max: 3, windowMs: HOUR_MS } });
  for (const ip of ['10.1.0.1', '10.1.0.2', '10.1.0.3']) assert.equal((await attempt(t, 'x@example.com', ip)).allowed, true);
  assert.equal((await attempt(t, 'x@example.com', '10.1.0.1')).allowed, false, 'an attacking address waits');
  assert.equal((await attempt(t, 'x@example.com', '10.1.0.4')).allowed, true, 'an address with no failures still gets one try');
  assert.equal((await attempt(t, 'x@example.com', '10.1.0.4')).allowed, false, '...and after failing, waits too');
  assert.equal((await attempt(t, 'y@example.com', '10.1.0.1')).allowed, true, 'other accounts are not affected');
});

test('concurrent attempts queue on the lock: exactly the limit gets through', async () => {
  const t = throttle({ accountAddress: { max: 5, windowMs: HOUR_MS } });
  const results = await Promise.all(Array.from({ length: 15 }, () => attempt(t, 'race@example.com', '10.2.0.1')));
  assert.equal(results.filter((r) => r.allowed).length, 5);
  assert.equal(results.filter((r) => !r.allowed).length, 10);
});

test('only hashes are stored, and rows older than the longest window are deleted', async () => {
  const t = throttle({});
  await attempt(t, 'secret-person@example.com', '10.0.0.3');
  const stored = await sql<{ key_hash: string }>(stack, 'select key_hash from login_failures');
  assert.equal(stored.length, 3);
  assert.ok(stored.every((r) => /^[0-9a-f]{64}$/.test(r.key_hash)));
  await age(HOUR_MS + 1_000);
  await attempt(t, 'fresh@example.com', '10.0.0.4');
  const [{ n }] = await sql<{ n: string }>(stack, 'select count(*) as n from login_failures');
  assert.equal(Number(n), 3, 'only the fresh attempt is left');
});
