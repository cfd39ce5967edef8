// Statements run through db/sql.ts are prepared on the server under a name derived from their text,
// so PostgreSQL parses each once per connection: asserted from pg_prepared_statements, which lists
// the statements of the connection that reads it. One connection per ORM here (poolMax 1), so every
// statement of a test shares it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { openOrm, type Orm } from '../../db/orm';
import { fork, inTransaction, placeholders, sql, statementName } from '../../db/sql';
import { loadConfig } from '../../lib/config';

let stack: TestStack;
const opened: Orm[] = [];
before(async () => {
  stack = await startTestStack({ worker: false });
});
after(async () => {
  for (const orm of opened) await orm.close(true);
  await stack?.close();
});

async function oneConnection(preparedStatements?: boolean): Promise<Orm> {
  const orm = await openOrm({ url: stack.databaseUrl, poolMax: 1, preparedStatements });
  opened.push(orm);
  return orm;
}

/** the statements prepared on the ORM's one connection, by name */
async function prepared(orm: Orm): Promise<Map<string, string>> {
  const rows = await sql<{ name: string; statement: string }>(fork(orm), 'select name, statement from pg_prepared_statements');
  return new Map(rows.map((r) => [r.name, r.statement]));
}

test('a statement is prepared once under its name and reused by later calls, in and out of transactions', async () => {
  const orm = await oneConnection();
  const text = 'select ?::int + 1 as n';
  assert.deepEqual(await sql(fork(orm), text, [1]), [{ n: 2 }]);
  assert.deepEqual(await inTransaction(orm, (tx) => sql(tx, text, [41])), [{ n: 42 }]);
  const names = await prepared(orm);
  assert.equal(names.get(statementName(text)), 'select $1::int + 1 as n');
  // a rolled-back transaction does not take a statement prepared in it away from the connection
  const other = 'select ?::text as s';
  await inTransaction(orm, async (tx) => {
    await sql(tx, other, ['x']);
    throw new Error('roll back');
  }).catch(() => undefined);
  assert.ok((await prepared(orm)).has(statementName(other)));
  assert.deepEqual(await sql(fork(orm), other, ['y']), [{ s: 'y' }]);
  assert.notEqual(statementName(text), statementName(other));
  // PostgreSQL cuts identifiers at 63 bytes: a longer name would make two long statements one
  assert.ok(Buffer.byteLength(statementName(`select 1 as ${'x'.repeat(500)}`)) <= 63);
});

test('a statement whose first parse failed is parsed again, not taken for prepared', async () => {
  const orm = await oneConnection();
  await assert.rejects(sql(fork(orm), 'select ?::int from no_such_table', [1]), /no_such_table/);
  assert.ok(!(await prepared(orm)).has(statementName('select ?::int from no_such_table')));
  await sql(fork(orm), 'create temporary table if not exists no_such_table (n int)');
  // the temporary table lives on this connection, which the pool of one keeps
  assert.deepEqual(await sql(fork(orm), 'select ?::int from no_such_table', [1]), []);
});

test('a column changed under a prepared statement (a migration while the process runs) does not break it', async () => {
  const orm = await oneConnection();
  await sql(fork(orm), 'create temporary table plan_change (n int)');
  await sql(fork(orm), 'insert into plan_change values (?)', [7]);
  const read = 'select n from plan_change';
  assert.deepEqual(await sql(fork(orm), read), [{ n: 7 }]);
  assert.ok((await prepared(orm)).has(statementName(read)));
  await sql(fork(orm), 'alter table plan_change alter column n type text');
  // PostgreSQL refuses the prepared statement (its result type changed): run alone, it is sent again unnamed
  assert.deepEqual(await sql(fork(orm), read), [{ n: '7' }]);
  await sql(fork(orm), 'alter table plan_change alter column n type bigint using n::bigint');
  const inTx = 'select n as m from plan_change';
  assert.deepEqual(await sql(fork(orm), inTx), [{ m: '7' }]);
  await sql(fork(orm), 'alter table plan_change alter column n type int');
  // in a transaction the refusal aborts it; the caller's retry runs unnamed
  await assert.rejects(inTransaction(orm, (tx) => sql(tx, inTx)), /cached plan must not change result type/);
  assert.deepEqual(await inTransaction(orm, (tx) => sql(tx, inTx)), [{ m: 7 }]);
});

test('a statement with a long list of values stays unnamed: its text varies with the list', async () => {
  const orm = await oneConnection();
  const ids = Array.from({ length: 40 }, (_, i) => i);
  const text = `select count(*)::int as n from generate_series(0, 100) g where g in (${placeholders(ids.length)})`;
  assert.deepEqual(await sql(fork(orm), text, ids), [{ n: 40 }]);
  const short = `select count(*)::int as n from generate_series(0, 100) g where g in (${placeholders(3)})`;
  assert.deepEqual(await sql(fork(orm), short, [1, 2, 3]), [{ n: 3 }]);
  const names = await prepared(orm);
  assert.ok(!names.has(statementName(text)), 'forty values: not prepared');
  assert.ok(names.has(statementName(short)), 'three values: prepared');
});

test('DATABASE_PREPARED_STATEMENTS=0 sends every statement unnamed', async () => {
  assert.equal(loadConfig({}).database.preparedStatements, true);
  assert.equal(loadConfig({ DATABASE_PREPARED_STATEMENTS: '0' }).database.preparedStatements, false);
  assert.equal(loadConfig({ DATABASE_PREPARED_STATEMENTS: '1' }).database.preparedStatements, true);
  assert.throws(() => loadConfig({ DATABASE_PREPARED_STATEMENTS: 'sometimes' }), /DATABASE_PREPARED_STATEMENTS/);
  const orm = await oneConnection(false);
  assert.deepEqual(await sql(fork(orm), 'select ?::int * 2 as n', [21]), [{ n: 42 }]);
  assert.deepEqual([...(await prepared(orm)).keys()], []);
});
