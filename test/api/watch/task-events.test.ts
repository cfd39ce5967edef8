// api/watch/task-events.ts against a real PostgreSQL: fan-out by task / owner / organization, coalescing of
// bursts, resync after a lost connection, and the triggers' payloads for real row changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestStack, type TestStack } from '../../helpers/stack';
import { sql } from '../../helpers/task-rows';
import { taskWorld, seedTaskOf, type TaskWorld } from '../../helpers/task-world';
import { waitFor } from '../../helpers/wait';
import {
  TASK_EVENTS_APPLICATION_NAME,
  TaskEvents,
  parseTaskEventPayload,
  type TaskChange,
  type TaskEventListener,
  type TaskInterest,
} from '../../../api/watch/task-events';

let stack: TestStack;
let world: TaskWorld;
let hub: TaskEvents;

before(async () => {
  stack = await startTestStack({ worker: false });
  world = await taskWorld(stack);
  hub = new TaskEvents({ databaseUrl: stack.databaseUrl, log: stack.log, coalesceMs: 60, backoffMinMs: 50 });
  await hub.start();
});
after(async () => {
  await hub?.close();
  await stack?.close();
});

interface Recorder extends TaskEventListener {
  batches: TaskChange[][];
  resyncs: number;
  closed: boolean;
  stop: () => void;
}

function record(interest: TaskInterest): Recorder {
  const r: Recorder = {
    batches: [],
    resyncs: 0,
    closed: false,
    stop: () => {},
    onChanges: (changes) => r.batches.push(changes),
    onResync: () => (r.resyncs += 1),
    onClose: () => (r.closed = true),
  };
  r.stop = hub.subscribe(interest, r);
  return r;
}

const notify = (taskId: string, kind: string, owner: string, org: string) =>
  sql(stack, 'select pg_notify(?, ?)', ['taskd_task_events', `${taskId}:${kind}:${owner}:${org}`]);

describe('TaskEvents', () => {
  test('parses the trigger payload and rejects anything else', () => {
    const [t, o, g] = [randomUUID(), randomUUID(), randomUUID()];
    assert.deepEqual(parseTaskEventPayload(`${t}:log:${o}:${g}`), { taskId: t, kind: 'log', ownerId: o, organizationId: g });
    assert.equal(parseTaskEventPayload(`${t}:log`), null);
    assert.equal(parseTaskEventPayload(`${t}:bogus:${o}:${g}`), null);
    assert.equal(parseTaskEventPayload(`${t}:log:${o}:${g}:extra`), null);
  });

  test('fans out by task, owner, organization and to everything, one batch per burst', async () => {
    const [task, other, owner, org] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const byTask = record({ taskId: task });
    const byOwner = record({ ownerIds: [owner], organizationIds: [] });
    const byOrg = record({ ownerIds: [], organizationIds: [org] });
    const all = record({ all: true });
    const unrelated = record({ ownerIds: [randomUUID()], organizationIds: [randomUUID()] });
    // a burst: three notifications for one task, one for another task of the same owner
    await notify(task, 'build', owner, org);
    await notify(task, 'agent', owner, org);
    await notify(task, 'build', owner, org);
    await notify(other, 'log', owner, randomUUID());
    await waitFor(() => all.batches.length > 0 && byOwner.batches.length > 0, { what: 'delivery' });
    const mine = byTask.batches.flat();
    assert.equal(mine.length, 1, 'the burst reaches a task subscriber once');
    assert.deepEqual([...mine[0].kinds].sort(), ['agent', 'build']);
    assert.deepEqual(byOwner.batches.flat().map((c) => c.taskId).sort(), [task, other].sort());
    assert.deepEqual(byOrg.batches.flat().map((c) => c.taskId), [task]);
    assert.equal(all.batches.flat().length, 2);
    assert.equal(unrelated.batches.length, 0);

    byTask.stop();
    await notify(task, 'state', owner, org);
    await waitFor(() => all.batches.flat().length === 3, { what: 'second delivery' });
    assert.equal(byTask.batches.flat().length, 1, 'no delivery after unsubscribing');
    for (const r of [byOwner, byOrg, all, unrelated]) r.stop();
  });

  test('real row changes notify with the task, its owner and organization', async () => {
    const seeded = await seedTaskOf(stack, world, world.alice);
    const r = record({ taskId: seeded.taskId });
    await sql(stack, 'insert into task_messages (task_id, message_id, role, content, time) values (?, 0, ?, ?, now())', [seeded.taskId, 'user', 'hi']);
    await sql(stack, "update tasks set prompt = 'changed' where id = ?", [seeded.taskId]);
    await waitFor(() => new Set(r.batches.flat().flatMap((c) => [...c.kinds])).size >= 2, { what: 'log and task changes' });
    const changes = r.batches.flat();
    assert.ok(changes.every((c) => c.ownerId === world.alice.user.id && c.organizationId === world.org.id));
    assert.deepEqual([...new Set(changes.flatMap((c) => [...c.kinds]))].sort(), ['log', 'task']);

    // a column no client shows notifies nothing: only the marker sent after it arrives
    const seen = r.batches.length;
    await sql(stack, 'update tasks set prompt_delivered_at = now() where id = ?', [seeded.taskId]);
    await notify(seeded.taskId, 'state', world.alice.user.id, world.org.id);
    await waitFor(() => r.batches.slice(seen).flat().some((c) => c.kinds.has('state')), { what: 'marker' });
    assert.deepEqual(r.batches.slice(seen).flat().flatMap((c) => [...c.kinds]), ['state']);

    await sql(stack, 'update tasks set deleted_at = now() where id = ?', [seeded.taskId]);
    await waitFor(() => r.batches.flat().some((c) => c.kinds.has('deleted')), { what: 'deleted' });
    r.stop();
  });

  test('after losing its connection it reconnects and tells subscribers to resync', async () => {
    const r = record({ all: true });
    const killed = await sql(stack, 'select pg_terminate_backend(pid) from pg_stat_activity where application_name = ? and datname = current_database()', [
      TASK_EVENTS_APPLICATION_NAME,
    ]);
    assert.ok(killed.length >= 1);
    await waitFor(() => r.resyncs >= 1, { what: 'resync', timeoutMs: 10_000 });
    const task = randomUUID();
    await notify(task, 'task', randomUUID(), randomUUID());
    await waitFor(() => r.batches.flat().some((c) => c.taskId === task), { what: 'delivery after reconnect' });
    r.stop();
  });

  test('closing ends every subscription', async () => {
    const own = new TaskEvents({ databaseUrl: stack.databaseUrl, log: stack.log });
    await own.start();
    assert.equal(own.listening, true);
    let closed = 0;
    own.subscribe({ all: true }, { onChanges() {}, onResync() {}, onClose: () => (closed += 1) });
    await own.close();
    assert.equal(closed, 1);
    assert.equal(own.listening, false);
  });
});
