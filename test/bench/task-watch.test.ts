// The benchmarks' task watcher learns that a deleted task's workspace is gone from a notification of
// its own (taskd notifies nothing about a task once it is deleted), and leaves nothing behind.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { RowWatch, taskSource, type TaskState } from '../../bench/lib/task-watch';
import { startTestStack, type TestStack } from '../helpers/stack';
import { sql } from '../helpers/task-rows';
import { seedTaskOf, taskWorld, type TaskWorld } from '../helpers/task-world';

let stack: TestStack;
let world: TaskWorld;

before(async () => {
  stack = await startTestStack({ worker: false });
  world = await taskWorld(stack);
});
after(async () => {
  await stack?.close();
});

const benchTriggers = async () =>
  (await sql<{ tgname: string }>(stack, `select tgname from pg_trigger where tgname like 'taskd_bench_%' order by tgname`)).map((r) => r.tgname);

test("a deleted task's workspace deletion is notified to the watcher, on the benchmark's channel, once", async () => {
  const task = await seedTaskOf(stack, world, world.alice);
  const watch = await RowWatch.start(stack.databaseUrl, taskSource);
  const [trigger] = await benchTriggers();
  assert.ok(trigger, 'the watcher installed its trigger');
  const listener = new pg.Client({ connectionString: stack.databaseUrl });
  await listener.connect();
  const heard: string[] = [];
  listener.on('notification', (n) => heard.push(`${n.channel} ${n.payload}`));
  await listener.query(`listen ${trigger}`);
  try {
    const gone = watch.until(task.taskId, (s: TaskState) => s.workspaceDeleted, 30_000);
    // as taskd deletes: the task when the delete is accepted, its workspace when the delete build ends
    await sql(stack, 'update tasks set deleted_at = now() where id = ?', [task.taskId]);
    await sql(stack, 'update workspaces set deleted = true, updated_at = now() where id = ?', [task.workspaceId]);
    await sql(stack, 'update workspaces set updated_at = now() where id = ?', [task.workspaceId]);
    const { state } = await gone;
    assert.equal(state.deleted, true);
    await listener.query('select 1'); // notifications sent before this round trip have arrived
    assert.deepEqual(heard, [`${trigger} ${task.taskId}:workspace-deleted`], 'one notification, for the deletion only');
  } finally {
    await listener.end();
    await watch.close();
  }
  assert.deepEqual(await benchTriggers(), [], 'closing the watch removes its trigger');
  const [fn] = await sql<{ n: number }>(stack, `select count(*)::int as n from pg_proc where proname like 'taskd_bench_%'`);
  assert.equal(fn!.n, 0, 'and its function');
});

test('two watches on one database each keep their own trigger', async () => {
  const [a, b] = await Promise.all([RowWatch.start(stack.databaseUrl, taskSource), RowWatch.start(stack.databaseUrl, taskSource)]);
  assert.equal((await benchTriggers()).length, 2);
  await a.close();
  assert.equal((await benchTriggers()).length, 1, "one watch closing leaves the other's");
  await b.close();
  assert.deepEqual(await benchTriggers(), []);
});
