// A failed statement's error (which is logged) carries the statement and PostgreSQL's reason, never
// the values bound to it: those are prompts, emails and client addresses.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { fork, sql } from '../../db/sql';

let stack: TestStack;
before(async () => {
  stack = await startTestStack({ worker: false });
});
after(async () => {
  await stack?.close();
});

test('an error names the statement with placeholders and the reason, without the bound values', async () => {
  const secret = 'my secret prompt 7f3a';
  const err = await sql(fork(stack.orm), 'select ?::int as n', [secret]).then(
    () => assert.fail('the cast should fail'),
    (e: Error) => e,
  );
  assert.match(err.message, /select \$1::int as n/);
  assert.match(err.message, /invalid input syntax for type integer: "…"$/);
  assert.ok(!err.message.includes(secret), err.message);
});

test('the same holds for a write', async () => {
  const secret = 'another secret 91c2';
  const err = await sql(fork(stack.orm), 'insert into audit_logs (id) values (?)', [secret]).then(
    () => assert.fail('the insert should fail'),
    (e: Error) => e,
  );
  assert.ok(!err.message.includes(secret), err.message);
});
