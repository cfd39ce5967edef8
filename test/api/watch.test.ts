// The watch endpoints (issue 8, beyond Coder): Server-Sent Events fed by PostgreSQL notifications.
// Real stack, echo provisioner: every change here is made through the API (or, for the conversation,
// written the way the workspace agent forwards it) and must reach an open stream without reloading.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { taskWorld, type Person, type TaskWorld } from '../helpers/task-world';
import { createUserWithToken } from '../helpers/fixtures';
import { sql } from '../helpers/task-rows';
import { openEventStream, type EventStream, type StreamEvent } from '../helpers/event-stream';
import { waitFor } from '../helpers/wait';
import { TASK_EVENTS_APPLICATION_NAME } from '../../api/watch/task-events';

let stack: TestStack;
let world: TaskWorld;
const streams: EventStream[] = [];

before(async () => {
  // no heartbeat during these tests: whatever ends or feeds a stream here is a change notification
  stack = await startTestStack({ env: { TASKD_WATCH_HEARTBEAT_MS: '600000' } });
  world = await taskWorld(stack);
});
after(async () => {
  for (const s of streams) s.close();
  await stack?.close();
});

async function watch(path: string, who: Person): Promise<EventStream> {
  const s = await openEventStream(stack.baseUrl + path, who.token);
  streams.push(s);
  return s;
}

async function newTask(who: Person, input = 'watch me') {
  const res = await stack.api('POST', '/api/v2/tasks/me', { token: who.token, body: { template_version_id: world.version.id, input } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; name: string; owner_name: string };
}

const isTask = (status: string) => (e: StreamEvent) => e.event === 'task' && e.data.status === status;

async function activeTask(who: Person) {
  const task = await newTask(who);
  await waitFor(async () => (await stack.api('GET', `/api/v2/tasks/me/${task.id}`, { token: who.token })).body.status === 'active', {
    what: 'task active',
  });
  return task;
}

describe('GET /tasks/{user}/{task}/watch', () => {
  test('sends the full task on connect, then its status changes after pause without reloading', async () => {
    const task = await activeTask(world.alice);
    const s = await watch(`/api/v2/tasks/alice/${task.name}/watch`, world.alice);
    assert.equal(s.status, 200);
    assert.match(s.headers.get('content-type') ?? '', /^text\/event-stream/);

    const first = await s.next((e) => e.event === 'task', { what: 'initial task' });
    const read = await stack.api('GET', `/api/v2/tasks/me/${task.id}`, { token: world.alice.token });
    assert.deepEqual(first.data, read.body, 'the initial event is the Task object GET answers');

    const pause = await stack.api('POST', `/api/v2/tasks/me/${task.id}/pause`, { token: world.alice.token });
    assert.equal(pause.status, 202, JSON.stringify(pause.body));
    const paused = await s.next(isTask('paused'), { what: 'paused task', timeoutMs: 15_000 });
    assert.equal(paused.data.workspace_status, 'stopped');
    assert.equal(paused.data.workspace_build_number, 2);

    // a task event is sent only when the object changed
    const taskEvents = s.events.filter((e) => e.event === 'task').map((e) => JSON.stringify(e.data));
    for (let i = 1; i < taskEvents.length; i++) assert.notEqual(taskEvents[i], taskEvents[i - 1]);

    const resume = await stack.api('POST', `/api/v2/tasks/me/${task.id}/resume`, { token: world.alice.token });
    assert.equal(resume.status, 202, JSON.stringify(resume.body));
    await s.next(isTask('active'), { what: 'active again', from: s.events.indexOf(paused) + 1, timeoutMs: 15_000 });
  });

  test('streams forwarded conversation entries once each, and an entry again when its content grows', async () => {
    const task = await activeTask(world.alice);
    const s = await watch(`/api/v2/tasks/me/${task.id}/watch`, world.alice);
    await s.next((e) => e.event === 'task');
    const forward = (id: number, role: string, content: string) =>
      sql(
        stack,
        `insert into task_messages (task_id, message_id, role, content, time) values (?, ?, ?, ?, now())
         on conflict (task_id, message_id) do update set content = excluded.content`,
        [task.id, id, role, content],
      );
    await forward(0, 'user', 'watch me');
    await forward(1, 'agent', 'Working');
    const batch = await s.next((e) => e.event === 'logs' && e.data.logs.some((l: any) => l.id === 1), { what: 'logs 0-1', timeoutMs: 30_000 });
    const sent = s.events.filter((e) => e.event === 'logs').flatMap((e) => e.data.logs);
    assert.deepEqual(
      sent.map((l: any) => [l.id, l.type, l.content]),
      [
        [0, 'input', 'watch me'],
        [1, 'output', 'Working'],
      ],
    );
    assert.match(batch.data.logs[0].time, /^\d{4}-\d\d-\d\dT/);

    const mark = s.events.length;
    await forward(1, 'agent', 'Working… done.');
    await forward(2, 'user', 'thanks');
    const more = await s.next((e) => e.event === 'logs' && e.data.logs.some((l: any) => l.id === 2), { from: mark, what: 'logs 1-2' });
    const after = s.events.slice(mark).filter((e) => e.event === 'logs').flatMap((e) => e.data.logs);
    assert.deepEqual(after.map((l: any) => [l.id, l.content]), [
      [1, 'Working… done.'],
      [2, 'thanks'],
    ]);
    assert.ok(more);
  });

  test('reports the deletion and ends the stream', async () => {
    const task = await activeTask(world.alice);
    const s = await watch(`/api/v2/tasks/me/${task.id}/watch`, world.alice);
    await s.next((e) => e.event === 'task');
    const del = await stack.api('DELETE', `/api/v2/tasks/me/${task.id}`, { token: world.alice.token });
    assert.equal(del.status, 202, JSON.stringify(del.body));
    const gone = await s.next((e) => e.event === 'deleted', { what: 'deleted event', timeoutMs: 10_000 });
    assert.deepEqual(gone.data, { id: task.id });
    await s.ended;
  });

  test('ends as soon as its session is revoked elsewhere, though nothing it watches changes', async () => {
    const task = await activeTask(world.alice);
    const key = await stack.api('POST', '/api/v2/users/me/keys', { token: world.alice.token });
    assert.equal(key.status, 201);
    const s = await openEventStream(stack.baseUrl + `/api/v2/tasks/me/${task.id}/watch`, key.body.key);
    streams.push(s);
    await s.next((e) => e.event === 'task', { what: 'initial task' });
    await sql(stack, 'delete from api_keys where id = ?', [String(key.body.key).slice(0, 10)]);
    const problem = await s.next((e) => e.event === 'problem', { what: 'the stream refusing the session', timeoutMs: 60_000 });
    assert.equal(problem.data.message, 'You are signed out or your session has expired. Please sign in again to continue.');
    await s.ended;
    assert.equal(s.comments, 0, 'ended by the notification: no heartbeat (which re-checks the session too) came');
  });

  test("an org admin's stream of a member's task ends as soon as the admin role is taken away", async () => {
    const admin = await createUserWithToken(stack, world.owner.token, { username: 'temp-admin', orgRoles: ['organization-admin'] });
    const task = await activeTask(world.alice);
    const s = await watch(`/api/v2/tasks/alice/${task.id}/watch`, admin);
    await s.next((e) => e.event === 'task', { what: 'initial task' });
    const list = await watch('/api/v2/tasks/watch', admin);
    const first = await list.next((e) => e.event === 'tasks', { what: 'initial list' });
    assert.ok(first.data.tasks.some((t: { id: string }) => t.id === task.id), "the admin's list shows alice's task");

    const demoted = await stack.api('PUT', `/api/v2/organizations/${world.org.id}/members/${admin.user.id}/roles`, {
      token: world.owner.token,
      body: { roles: [] },
    });
    assert.equal(demoted.status, 200, JSON.stringify(demoted.body));
    const gone = await s.next((e) => e.event === 'deleted', { what: 'the stream ending', timeoutMs: 30_000 });
    assert.deepEqual(gone.data, { id: task.id });
    await s.ended;
    const narrowed = await list.next((e) => e.event === 'tasks' && !e.data.tasks.some((t: { id: string }) => t.id === task.id), {
      what: 'the list without the task',
      timeoutMs: 30_000,
    });
    assert.equal(narrowed.data.tasks.length, 0);
    assert.equal(s.comments + list.comments, 0, 'ended and narrowed by the notification, not a heartbeat');
    // nothing of the conversation reaches the stream after it ended
    assert.equal(s.events.filter((e) => e.event === 'logs' && e.at > gone.at).length, 0);
    assert.equal((await stack.api('GET', `/api/v2/tasks/alice/${task.id}`, { token: admin.token })).status, 404);
  });

  test('is authorised like GET: 404 for another member, 401 without a session, same under /api/experimental', async () => {
    const task = await newTask(world.alice);
    const bob = await fetch(`${stack.baseUrl}/api/v2/tasks/alice/${task.name}/watch`, { headers: { 'Coder-Session-Token': world.bob.token } });
    assert.equal(bob.status, 404);
    assert.deepEqual(await bob.json(), { message: 'Resource not found or you do not have access to this resource' });
    const byId = await fetch(`${stack.baseUrl}/api/experimental/tasks/me/${task.id}/watch`, { headers: { 'Coder-Session-Token': world.bob.token } });
    assert.equal(byId.status, 404);
    await byId.body?.cancel();
    const anonymous = await fetch(`${stack.baseUrl}/api/v2/tasks/me/${task.id}/watch`);
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();

    // an organization admin may see it, as with GET
    const admin = await watch(`/api/experimental/tasks/me/${task.id}/watch`, world.admin);
    assert.equal(admin.status, 200);
    const first = await admin.next((e) => e.event === 'task');
    assert.equal(first.data.id, task.id);
  });

  test('keeps delivering after the listener connection is lost (reconnects and resyncs)', async () => {
    const task = await activeTask(world.alice);
    const s = await watch(`/api/v2/tasks/me/${task.id}/watch`, world.alice);
    await s.next((e) => e.event === 'task');
    const killed = await sql(stack, 'select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = ? and datname = current_database()', [
      TASK_EVENTS_APPLICATION_NAME,
    ]);
    assert.equal(killed.length, 1, 'one listener connection per API process');
    await waitFor(
      async () =>
        (await sql(stack, 'select 1 from pg_stat_activity where application_name = ? and datname = current_database()', [TASK_EVENTS_APPLICATION_NAME]))
          .length === 1,
      { what: 'listener reconnected' },
    );
    const pause = await stack.api('POST', `/api/v2/tasks/me/${task.id}/pause`, { token: world.alice.token });
    assert.equal(pause.status, 202);
    await s.next(isTask('paused'), { what: 'paused after reconnect', timeoutMs: 15_000 });
  });
});

describe('GET /tasks/watch', () => {
  test('sends the list on connect and again when a task appears or changes', async () => {
    const s = await watch(`/api/v2/tasks/watch?q=${encodeURIComponent('owner:"bob"')}`, world.bob);
    assert.equal(s.status, 200);
    const first = await s.next((e) => e.event === 'tasks', { what: 'initial list' });
    const listed = await stack.api('GET', `/api/v2/tasks?q=${encodeURIComponent('owner:"bob"')}`, { token: world.bob.token });
    assert.deepEqual(first.data, listed.body);

    const created = await newTask(world.bob, 'list me');
    const withIt = await s.next((e) => e.event === 'tasks' && e.data.tasks.some((t: any) => t.id === created.id), {
      what: 'list with the new task',
    });
    assert.equal(withIt.data.count, first.data.count + 1);
    await s.next((e) => e.event === 'tasks' && e.data.tasks.some((t: any) => t.id === created.id && t.status === 'active'), {
      what: 'the new task active in the list',
      timeoutMs: 15_000,
    });
    // another member's task never shows up in bob's list
    await newTask(world.alice, 'not for bob');
    assert.ok(s.events.every((e) => e.event !== 'tasks' || e.data.tasks.every((t: any) => t.owner_name === 'bob')));
  });

  test('with limit, streams the newest page and the total count, as GET /tasks pages', async () => {
    const q = encodeURIComponent('owner:"ada"');
    await newTask(world.admin, 'older');
    const s = await watch(`/api/v2/tasks/watch?q=${q}&limit=1`, world.admin);
    const first = await s.next((e) => e.event === 'tasks', { what: 'initial page' });
    const paged = await stack.api('GET', `/api/v2/tasks?q=${q}&limit=1`, { token: world.admin.token });
    // the same page and count (the task may move on between the two reads, so not the same JSON)
    const idsOf = (body: { tasks: { id: string }[] }) => body.tasks.map((t) => t.id);
    assert.deepEqual(idsOf(first.data), idsOf(paged.body));
    assert.equal(first.data.count, paged.body.count);
    assert.equal(first.data.tasks.length, 1);
    const created = await newTask(world.admin, 'newest');
    const next = await s.next((e) => e.event === 'tasks' && e.data.tasks[0]?.id === created.id, { what: 'the new task on the page' });
    assert.equal(next.data.tasks.length, 1);
    assert.equal(next.data.count, first.data.count + 1, 'count is the whole list, not the page');
    const bad = await stack.api('GET', '/api/v2/tasks/watch?limit=0', { token: world.admin.token });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.validations[0].field, 'limit');
  });

  test('uses the q grammar and errors of GET /tasks', async () => {
    const bad = await stack.api('GET', `/api/v2/tasks/watch?q=${encodeURIComponent('status:sleeping')}`, { token: world.bob.token });
    const plain = await stack.api('GET', `/api/v2/tasks?q=${encodeURIComponent('status:sleeping')}`, { token: world.bob.token });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, plain.body);
    const anonymous = await stack.api('GET', '/api/experimental/tasks/watch');
    assert.equal(anonymous.status, 401);
  });
});
