// The API's session cache against the real database: a used token is served without reading its
// row, and every way a token stops being valid outside this process — a key deleted, a user
// suspended — reaches the cache through the triggers' notifications; while the notification feed
// is down nothing is served from the cache at all.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createUserWithToken, setupOwner } from '../helpers/fixtures';
import { sql } from '../helpers/task-rows';
import { waitFor } from '../helpers/wait';
import { TASK_EVENTS_APPLICATION_NAME } from '../../api/watch/task-events';

let stack: TestStack;
let owner: Awaited<ReturnType<typeof setupOwner>>;

before(async () => {
  // cached rows outlive every wait below: only a notification can make the cache let go of one
  stack = await startTestStack({ worker: false, env: { TASKD_AUTH_CACHE_MS: '600000' } });
  owner = await setupOwner(stack);
});
after(async () => {
  await sql(stack, 'alter table api_keys enable trigger api_keys_notify_auth').catch(() => {});
  await stack?.close();
});

const me = (token: string) => stack.api('GET', '/api/v2/users/me', { token });
const keyId = (token: string) => token.slice(0, 10);

async function freshUser(username: string) {
  const created = await createUserWithToken(stack, owner.token, { username });
  assert.equal((await me(created.token)).status, 200, 'first use reads the database and caches the row');
  return created;
}

/** Runs fn with the key trigger switched off: a deletion then reaches no API process. */
async function withoutKeyNotifications(fn: () => Promise<void>): Promise<void> {
  await sql(stack, 'alter table api_keys disable trigger api_keys_notify_auth');
  try {
    await fn();
  } finally {
    await sql(stack, 'alter table api_keys enable trigger api_keys_notify_auth');
  }
}

describe('session cache', () => {
  test('a used token is answered from the cache, so only the notification revokes it', async () => {
    const { token } = await freshUser('cached-one');
    assert.equal(stack.sessions.serving, true);
    await withoutKeyNotifications(async () => {
      await sql(stack, 'delete from api_keys where id = ?', [keyId(token)]);
      // the row is gone but nobody said so: the cached row still answers (what the trigger is for)
      assert.equal((await me(token)).status, 200);
    });
    stack.sessions.forgetKey(keyId(token));
    assert.equal((await me(token)).status, 401);
  });

  test('a key deleted by another process stops working once its notification arrives', async () => {
    const { token } = await freshUser('revoked-elsewhere');
    await sql(stack, 'delete from api_keys where id = ?', [keyId(token)]);
    await waitFor(async () => (await me(token)).status === 401, { timeoutMs: 60_000, what: 'the deleted key to be refused' });
  });

  test('a user suspended by another process is refused once the notification arrives', async () => {
    const { token, user } = await freshUser('suspended-elsewhere');
    await sql(stack, `update users set status = 'suspended' where id = ?`, [user.id]);
    const refused = await waitFor(async () => {
      const res = await me(token);
      return res.status === 401 ? res : null;
    }, { timeoutMs: 60_000, what: 'the suspended user to be refused' });
    assert.match(refused.body.detail, /suspended/);
  });

  test('while the notification feed is down every request reads the database', async () => {
    const { token } = await freshUser('feed-down');
    await sql(stack, 'select pg_terminate_backend(pid) from pg_stat_activity where application_name = ? and datname = current_database()', [
      TASK_EVENTS_APPLICATION_NAME,
    ]);
    await waitFor(() => !stack.sessions.serving, { timeoutMs: 60_000, what: 'the cache to stop serving' });
    await withoutKeyNotifications(async () => {
      await sql(stack, 'delete from api_keys where id = ?', [keyId(token)]);
      assert.equal((await me(token)).status, 401, 'no cached row was used');
    });
    await waitFor(() => stack.sessions.serving, { timeoutMs: 60_000, what: 'the feed to reconnect' });
    const other = await freshUser('feed-back');
    assert.ok(stack.sessions.size > 0, 'serving again after the reconnect');
    assert.equal((await me(other.token)).status, 200);
  });
});
