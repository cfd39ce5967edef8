import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { query, seedTask, type SeededTask } from '../helpers/agent-fixtures';

// What the agent uploads about its task: the log snapshot (spec §4.1, checks in the stated order)
// and, beyond Coder, the conversation message by message.

let stack: TestStack;

before(async () => {
  stack = await startTestStack({ worker: false });
});
after(async () => {
  await stack?.close();
});

const me = '/api/v2/workspaceagents/me';
const token = (t: SeededTask) => t.builds[0]!.token!;
const msg = (id: number, role: string, content: string) => ({ id, role, content, time: '2026-04-10T11:34:40.123456789Z' });

describe('log-snapshot', () => {
  const upload = (t: SeededTask, task: string, qs: string, body: string) =>
    stack.api('POST', `${me}/tasks/${task}/log-snapshot${qs}`, { token: token(t), rawBody: body });

  test('checks the task id first, then the query, then the format', async () => {
    const t = await seedTask(stack.orm);
    const badId = await upload(t, 'abc', '?x=1', '{');
    assert.equal(badId.status, 400);
    assert.equal(badId.body.message, 'Invalid task ID format.');
    assert.equal(badId.body.detail, 'invalid UUID length: 3');

    const noFormat = await upload(t, t.taskId, '?x=1', '{');
    assert.equal(noFormat.status, 400);
    assert.deepEqual(noFormat.body, {
      message: 'Invalid query parameters.',
      validations: [
        { field: 'format', detail: 'Query param "format" is required and cannot be empty' },
        { field: 'x', detail: 'Query param "x" is not a valid query param' },
      ],
    });
    const emptyFormat = await upload(t, t.taskId, '?format=', '{}');
    assert.equal(emptyFormat.body.message, 'Invalid query parameters.');

    const otherFormat = await upload(t, t.taskId, '?format=claude', '{');
    assert.equal(otherFormat.status, 400);
    assert.deepEqual(otherFormat.body, {
      message: 'Invalid format parameter.',
      detail: 'Only "agentapi" format is currently supported, got "claude".',
    });
  });

  test('looks the task up before reading the body: unknown, foreign and deleted tasks are 404', async () => {
    const t = await seedTask(stack.orm);
    const other = await seedTask(stack.orm);
    const huge = 'x'.repeat(200_000);
    const unknown = await upload(t, '00000000-0000-4000-8000-000000000000', '?format=agentapi', huge);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('connection'), 'close', 'the unread body ends the connection');
    assert.equal((await upload(t, other.taskId, '?format=agentapi', huge)).status, 404);
    await query(stack.orm, 'update tasks set deleted_at = now() where id = ?', [t.taskId]);
    assert.equal((await upload(t, t.taskId, '?format=agentapi', '{"messages":[]}')).status, 404);
  });

  test('decodes the body: size cap, JSON, messages required', async () => {
    const t = await seedTask(stack.orm);
    const post = (body: string) => upload(t, t.taskId, '?format=agentapi', body);
    const undecodable = { message: 'Failed to decode request payload.' };
    assert.deepEqual((await post('{"messages": [')).body, undecodable);
    assert.deepEqual((await post('{"messages": "nope"}')).body, undecodable);
    assert.deepEqual((await post(JSON.stringify({ messages: [msg(0, 'agent', 'x'.repeat(65_536))] }))).body, undecodable);
    const missing = { message: 'Invalid agentapi payload structure.', detail: 'Missing required "messages" field.' };
    assert.deepEqual((await post('{}')).body, missing);
    assert.deepEqual((await post('{"messages": null}')).body, missing);
    assert.equal((await post('{"messages": []}')).status, 204);
  });

  test('a body of exactly 64 KiB is accepted', async () => {
    const t = await seedTask(stack.orm);
    const shell = JSON.stringify({ messages: [msg(0, 'agent', '')] });
    const body = JSON.stringify({ messages: [msg(0, 'agent', 'y'.repeat(65_536 - Buffer.byteLength(shell)))] });
    assert.equal(Buffer.byteLength(body), 65_536);
    assert.equal((await upload(t, t.taskId, '?format=agentapi', body)).status, 204);
  });

  test('stores the agentapi envelope, replacing the previous snapshot; extra fields are dropped', async () => {
    const t = await seedTask(stack.orm);
    const first = { messages: [msg(0, 'agent', 'hello'), msg(1, 'user', 'do it')] };
    assert.equal((await upload(t, t.taskId, '?format=agentapi', JSON.stringify(first))).status, 204);
    const second = { messages: [{ ...msg(2, 'agent', 'done'), extra: true }], other: 'ignored' };
    assert.equal((await upload(t, t.taskId, '?format=agentapi', JSON.stringify(second))).status, 204);
    const rows = await query<{ log_snapshot: unknown; log_snapshot_created_at: Date }>(
      stack.orm,
      'select log_snapshot, log_snapshot_created_at from task_snapshots where task_id = ?',
      [t.taskId],
    );
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0]!.log_snapshot, { format: 'agentapi', data: { messages: [msg(2, 'agent', 'done')] } });
  });

  test('a NUL character in a message is stored as U+FFFD, not a 500 (found by test/fuzz)', async () => {
    const t = await seedTask(stack.orm);
    const res = await upload(t, t.taskId, '?format=agentapi', JSON.stringify({ messages: [msg(0, 'agent', 'a\u0000b')] }));
    assert.equal(res.status, 204, JSON.stringify(res.body));
    const rows = await query<{ log_snapshot: any }>(stack.orm, 'select log_snapshot from task_snapshots where task_id = ?', [t.taskId]);
    assert.equal(rows[0]!.log_snapshot.data.messages[0].content, 'a\uFFFDb');
  });

  test('a lone surrogate in a message is stored as U+FFFD, where jsonb would refuse it', async () => {
    const t = await seedTask(stack.orm);
    const res = await upload(t, t.taskId, '?format=agentapi', JSON.stringify({ messages: [msg(0, 'agent', 'a\ud800b')] }));
    assert.equal(res.status, 204, JSON.stringify(res.body));
    const rows = await query<{ log_snapshot: any }>(stack.orm, 'select log_snapshot from task_snapshots where task_id = ?', [t.taskId]);
    assert.equal(rows[0]!.log_snapshot.data.messages[0].content, 'a\uFFFDb');
  });
});

describe('messages (beyond Coder)', () => {
  const post = (t: SeededTask, task: string, messages: unknown[]) =>
    stack.api('POST', `${me}/tasks/${task}/messages`, { token: token(t), body: { messages } });
  const stored = (t: SeededTask) =>
    query<{ message_id: number; role: string; content: string }>(
      stack.orm,
      'select message_id, role, content from task_messages where task_id = ? order by message_id',
      [t.taskId],
    );

  test('upserts by id, so a streaming message ends with its final content', async () => {
    const t = await seedTask(stack.orm);
    assert.equal((await post(t, t.taskId, [msg(0, 'agent', 'Hel')])).status, 204);
    assert.equal((await post(t, t.taskId, [msg(0, 'agent', 'Hello'), msg(1, 'user', 'Go'), msg(2, 'agent', 'Wor'), msg(2, 'agent', 'Working')])).status, 204);
    assert.deepEqual(await stored(t), [
      { message_id: 0, role: 'agent', content: 'Hello' },
      { message_id: 1, role: 'user', content: 'Go' },
      { message_id: 2, role: 'agent', content: 'Working' },
    ]);
    const [task] = await query<{ delivered: boolean }>(stack.orm, 'select prompt_delivered_at is not null as delivered from tasks where id = ?', [t.taskId]);
    assert.equal(task!.delivered, true);
  });

  test('rejects other roles and tasks of other workspaces', async () => {
    const t = await seedTask(stack.orm);
    const other = await seedTask(stack.orm);
    assert.equal((await post(t, t.taskId, [msg(0, 'system', 'x')])).status, 400);
    assert.equal((await post(t, other.taskId, [msg(0, 'agent', 'x')])).status, 404);
    assert.equal((await post(t, 'nope', [msg(0, 'agent', 'x')])).status, 400);
  });

  const at = (id: number, role: string, content: string, time: string) => ({ id, role, content, time });

  test('an id or a time PostgreSQL cannot store is 400, not a 500 (found by schemathesis)', async () => {
    const t = await seedTask(stack.orm);
    assert.equal((await post(t, t.taskId, [at(2 ** 31, 'agent', 'x', '2026-04-10T10:00:00Z')])).status, 400);
    assert.equal((await post(t, t.taskId, [at(0, 'agent', 'x', '2026-04-10T10:00:00+99:00')])).status, 400);
    assert.equal((await post(t, t.taskId, [at(0, 'agent', 'x', '2026-04-10T10:00:00+15:59')])).status, 204);
    // the largest id, then an app that starts over: its messages would be stored past the integer
    assert.equal((await post(t, t.taskId, [at(2 ** 31 - 1, 'agent', 'last', '2026-04-10T10:00:01Z')])).status, 204);
    const full = await post(t, t.taskId, [at(0, 'agent', 'again', '2026-04-11T10:00:00Z'), at(1, 'user', 'more', '2026-04-11T10:00:01Z')]);
    assert.equal(full.status, 400, JSON.stringify(full.body));
    assert.equal(full.body.message, 'Message id out of range.');
    assert.equal((await stored(t)).length, 2, 'nothing of the refused batch was written');
  });

  test('an app that lost its state starts over at id 0: its conversation is stored after the old one', async () => {
    const t = await seedTask(stack.orm);
    const first = [at(0, 'agent', 'Welcome', '2026-04-10T10:00:00.1Z'), at(1, 'user', 'Fix the bug', '2026-04-10T10:00:01Z'), at(2, 'agent', 'Fixed.', '2026-04-10T10:00:09Z')];
    assert.equal((await post(t, t.taskId, first)).status, 204);
    // the restarted app: the same banner, but a new message 0 (its time), then a new exchange
    assert.equal((await post(t, t.taskId, [at(0, 'agent', 'Welcome', '2026-04-11T08:00:00.5Z')])).status, 204);
    assert.equal((await post(t, t.taskId, [at(1, 'user', 'Now the docs', '2026-04-11T08:01:00Z'), at(2, 'agent', 'Writ', '2026-04-11T08:01:02Z')])).status, 204);
    assert.equal((await post(t, t.taskId, [at(2, 'agent', 'Written.', '2026-04-11T08:01:05Z')])).status, 204);
    assert.deepEqual(await stored(t), [
      { message_id: 0, role: 'agent', content: 'Welcome' },
      { message_id: 1, role: 'user', content: 'Fix the bug' },
      { message_id: 2, role: 'agent', content: 'Fixed.' },
      { message_id: 3, role: 'agent', content: 'Welcome' },
      { message_id: 4, role: 'user', content: 'Now the docs' },
      { message_id: 5, role: 'agent', content: 'Written.' },
    ]);
    const logs = await query<{ content: string }>(stack.orm, 'select content from task_messages where task_id = ? order by message_id', [t.taskId]);
    assert.equal(logs.length, 6, 'nothing of the first conversation was overwritten');
  });

  test('an app that restored its state replays the same messages: nothing is duplicated', async () => {
    const t = await seedTask(stack.orm);
    const conversation = [at(0, 'agent', 'Welcome', '2026-04-10T10:00:00.123456789Z'), at(1, 'user', 'Go', '2026-04-10T10:00:01Z'), at(2, 'agent', 'Done', '2026-04-10T10:00:05Z')];
    assert.equal((await post(t, t.taskId, conversation)).status, 204);
    // resumed: the replay, one message at a time as the workspace agent forwards them, then more
    for (const m of conversation) assert.equal((await post(t, t.taskId, [m])).status, 204);
    assert.equal((await post(t, t.taskId, [at(3, 'user', 'More', '2026-04-12T09:00:00Z')])).status, 204);
    assert.deepEqual((await stored(t)).map((m) => [m.message_id, m.content]), [[0, 'Welcome'], [1, 'Go'], [2, 'Done'], [3, 'More']]);
  });

  test('the last message may still change: a new version of it is an update, not a new conversation', async () => {
    const t = await seedTask(stack.orm);
    assert.equal((await post(t, t.taskId, [at(0, 'agent', 'Welcome', '2026-04-10T10:00:00Z'), at(1, 'user', 'Go', '2026-04-10T10:00:01Z'), at(2, 'agent', 'Wor', '2026-04-10T10:00:02Z')])).status, 204);
    assert.equal((await post(t, t.taskId, [at(2, 'agent', 'Working on it', '2026-04-10T10:00:04Z')])).status, 204);
    assert.deepEqual((await stored(t)).map((m) => [m.message_id, m.content]), [[0, 'Welcome'], [1, 'Go'], [2, 'Working on it']]);
  });

  test('a NUL character in a message is stored as U+FFFD, not a 500 (found by test/fuzz)', async () => {
    const t = await seedTask(stack.orm);
    assert.equal((await post(t, t.taskId, [msg(0, 'agent', 'a\u0000b')])).status, 204);
    assert.deepEqual(await stored(t), [{ message_id: 0, role: 'agent', content: 'a\uFFFDb' }]);
  });
});
