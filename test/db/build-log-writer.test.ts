// A build's log as the provisioning activity writes it (activities/build-log.ts): lines said in a
// burst are stored together, a line said while the build goes on is stored without waiting for the
// build to end, and flushed() stores what is left at once — all in the order they were said.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { addBuild, sql } from '../helpers/task-rows';
import { seedTaskOf, taskWorld, type TaskWorld } from '../helpers/task-world';
import { buildLogWriter, LOG_BATCH_MS } from '../../activities/build-log';
import { waitFor } from '../helpers/wait';

let stack: TestStack;
let world: TaskWorld;
before(async () => {
  stack = await startTestStack({ worker: false });
  world = await taskWorld(stack);
});
after(async () => {
  await stack?.close();
});

async function newBuild(): Promise<string> {
  const task = await seedTaskOf(stack, world, world.alice);
  return (await addBuild(stack, task, { transition: 'start', jobStatus: 'running' })).buildId;
}

const stored = (buildId: string) =>
  sql<{ output: string; xid: string }>(stack, 'select output, xmin::text as xid from workspace_build_logs where build_id = ? order by id', [buildId]);

test('a burst of lines is one insert; a line said later is stored while the build goes on; flushed() stores the rest at once', async () => {
  const buildId = await newBuild();
  const writer = buildLogWriter({ config: stack.config, orm: stack.orm, log: stack.log }, buildId, 'Starting workspace');
  writer.line('one');
  writer.line('two');
  writer.line('three');
  assert.deepEqual(await stored(buildId), [], 'nothing is written while the burst may go on');

  // the build goes on without ending: the burst reaches the database by itself
  await waitFor(async () => (await stored(buildId)).length === 3, { what: 'the first burst stored', timeoutMs: 5_000 });
  const burst = await stored(buildId);
  assert.deepEqual(burst.map((r) => r.output), ['one', 'two', 'three']);
  assert.equal(new Set(burst.map((r) => r.xid)).size, 1, 'the burst was one statement');

  writer.line('four');
  writer.line('five', 'error');
  const flushing = writer.flushed();
  await flushing;
  const all = await stored(buildId);
  assert.deepEqual(all.map((r) => r.output), ['one', 'two', 'three', 'four', 'five'], 'in the order said, none waiting for the timer');
  assert.notEqual(all[3].xid, burst[0].xid);
  assert.ok(LOG_BATCH_MS <= 100, 'a follower sees a line at most a tenth of a second late');
});

test('a batch that cannot be stored is dropped with a warning: flushed() resolves, never failing the build', async () => {
  const missing = '00000000-0000-4000-8000-000000000000';
  const writer = buildLogWriter({ config: stack.config, orm: stack.orm, log: stack.log }, missing, 'Starting workspace');
  writer.line('for a build that does not exist');
  await writer.flushed();
  assert.deepEqual(await stored(missing), []);
});
