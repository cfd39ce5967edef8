// api/auth/session-cache.ts on its own, with a hand-driven clock: when it serves, what invalidates it,
// and the read-versus-invalidation race it must not lose.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionCache } from '../../../api/auth/session-cache';

function cacheAt(opts: { ttlMs?: number; maxEntries?: number } = {}) {
  const clock = { now: 1_000_000 };
  const cache = new SessionCache({ ttlMs: opts.ttlMs ?? 30_000, maxEntries: opts.maxEntries, now: () => clock.now });
  return { cache, clock };
}

const row = (n: number) => ({ k__id: `key${n}`, u__id: `user${n}` });

describe('SessionCache', () => {
  test('serves nothing until its invalidation feed is listening, and stops when it is lost', () => {
    const { cache } = cacheAt();
    cache.set('a', 'u', row(1), cache.generation);
    assert.equal(cache.get('a'), undefined, 'not listening yet: nothing stored');
    cache.onListening(true);
    cache.set('a', 'u', row(1), cache.generation);
    assert.deepEqual(cache.get('a'), row(1));
    cache.onListening(false);
    assert.equal(cache.serving, false);
    assert.equal(cache.get('a'), undefined);
    cache.onListening(true);
    assert.equal(cache.get('a'), undefined, 'what was cached before the gap is gone: notifications may have been missed');
  });

  test('an entry is used for ttlMs at most', () => {
    const { cache, clock } = cacheAt({ ttlMs: 5_000 });
    cache.onListening(true);
    cache.set('a', 'u', row(1), cache.generation);
    clock.now += 4_999;
    assert.ok(cache.get('a'));
    clock.now += 1;
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 0);
  });

  test('ttlMs 0 turns it off', () => {
    const { cache } = cacheAt({ ttlMs: 0 });
    cache.onListening(true);
    cache.set('a', 'u', row(1), cache.generation);
    assert.equal(cache.serving, false);
    assert.equal(cache.get('a'), undefined);
  });

  test('a row read before an invalidation is not stored after it', () => {
    const { cache } = cacheAt();
    cache.onListening(true);
    const generation = cache.generation; // the request starts reading the database...
    cache.onNotification('key:other'); // ...a revocation lands meanwhile...
    cache.set('a', 'u', row(1), generation); // ...and what it read may be stale
    assert.equal(cache.get('a'), undefined);
    cache.set('a', 'u', row(1), cache.generation);
    assert.ok(cache.get('a'));
  });

  test('notifications drop one key, or every key of one user; anything unreadable drops all', () => {
    const { cache } = cacheAt();
    cache.onListening(true);
    cache.set('a1', 'alice', row(1), cache.generation);
    cache.set('a2', 'alice', row(2), cache.generation);
    cache.set('b1', 'bob', row(3), cache.generation);
    cache.onNotification('key:a1');
    assert.deepEqual([cache.get('a1'), !!cache.get('a2'), !!cache.get('b1')], [undefined, true, true]);
    cache.onNotification('user:alice');
    assert.deepEqual([cache.get('a2'), !!cache.get('b1')], [undefined, true]);
    cache.onNotification('something else');
    assert.equal(cache.size, 0);
  });

  test('patch changes a column without renewing the entry', () => {
    const { cache, clock } = cacheAt({ ttlMs: 1_000 });
    cache.onListening(true);
    cache.set('a', 'u', { k__last_used: 'old' }, cache.generation);
    clock.now += 600;
    cache.patch('a', 'k__last_used', 'new');
    assert.deepEqual(cache.get('a'), { k__last_used: 'new' });
    clock.now += 400;
    assert.equal(cache.get('a'), undefined);
  });

  test('watchers hear about their key, their user, and a reconnect; not about others; not after unsubscribing', () => {
    const { cache } = cacheAt();
    cache.onListening(true);
    const heard: string[] = [];
    const stop = cache.watch({ keyId: 'k1', userId: 'alice' }, () => heard.push('k1'));
    cache.watch({ keyId: 'k2', userId: 'bob' }, () => heard.push('k2'));
    cache.onNotification('key:k1');
    cache.onNotification('user:bob');
    cache.onNotification('key:other');
    assert.deepEqual(heard, ['k1', 'k2']);
    cache.onListening(true); // reconnected: anything may have been missed
    assert.deepEqual(heard.slice(2).sort(), ['k1', 'k2']);
    stop();
    cache.onNotification('user:alice');
    assert.equal(heard.length, 4);
  });

  test('beyond maxEntries the oldest stored entry goes first', () => {
    const { cache } = cacheAt({ maxEntries: 2 });
    cache.onListening(true);
    for (const n of [1, 2, 3]) cache.set(`k${n}`, 'u', row(n), cache.generation);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('k1'), undefined);
    assert.ok(cache.get('k2') && cache.get('k3'));
  });
});
