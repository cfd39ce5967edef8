// Spec §3.5 (delete), §3.6 (input), §3.9 (pause/resume, role matrix) end to end: the real task
// workflow runs the builds through the echo provisioner.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestStack, type TestStack } from '../helpers/stack';
import { createAiTemplate, createUserWithToken } from '../helpers/fixtures';
import { taskWorld, seedTaskOf, type Person, type TaskWorld } from '../helpers/task-world';
import { addBuild, sql } from '../helpers/task-rows';
import { waitFor } from '../helpers/wait';

let stack: TestStack;
let world: TaskWorld;
let zed: Person; // a site-wide member outside the organization
let slowVersionId: string;

before(async () => {
  stack = await startTestStack();
  world = await taskWorld(stack);
  zed = await createUserWithToken(stack, world.owner.token, { username: 'zed', organizationIds: [] });
  const slow = await createAiTemplate(stack, world.owner.token, world.org.id, { workspace: { echo: { delay_ms: 1500 } } });
  slowVersionId = slow.version.id;
});
after(async () => {
  await stack?.close();
});

async function newTask(who: Person, opts: { versionId?: string; input?: string } = {}) {
  const res = await stack.api('POST', '/api/v2/tasks/me', {
    token: who.token,
    body: { template_version_id: opts.versionId ?? world.version.id, input: opts.input ?? 'do the work' },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; name: string; workspace_id: string };
}

async function statusOf(who: Person, taskId: string): Promise<string> {
  return (await stack.api('GET', `/api/v2/tasks/me/${taskId}`, { token: who.token })).body.status;
}

const until = (who: Person, taskId: string, status: string) =>
  waitFor(async () => (await statusOf(who, taskId)) === status, { what: `task ${status}` });

const post = (who: Person, path: string) => stack.api('POST', path, { token: who.token });

describe('pause and resume (§3.9)', () => {
  test('pause answers 202 with the full stop build; the task reads unknown, then paused', async () => {
    const task = await newTask(world.alice);
    await until(world.alice, task.id, 'active');
    const res = await post(world.alice, `/api/v2/tasks/me/${task.name}/pause`);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const build = res.body.workspace_build;
    assert.equal(build.transition, 'stop');
    assert.equal(build.build_number, 2);
    assert.equal(build.reason, 'task_manual_pause');
    assert.equal(build.workspace_id, task.workspace_id);
    assert.equal(build.workspace_name, task.name);
    assert.equal(build.workspace_owner_id, world.alice.user.id);
    assert.equal(build.workspace_owner_name, 'alice');
    assert.equal(build.initiator_id, world.alice.user.id);
    assert.equal(build.initiator_name, 'alice');
    assert.equal(build.template_version_id, world.version.id);
    assert.equal(build.template_version_preset_id, null);
    assert.equal(build.has_ai_task, true);
    assert.equal(build.job.type, 'workspace_build');
    assert.ok(['pending', 'running', 'succeeded'].includes(build.job.status));
    assert.ok(Array.isArray(build.resources));
    assert.ok(['pending', 'stopping', 'stopped'].includes(build.status));
    await until(world.alice, task.id, 'paused');
    // the build reads back complete through GET /workspacebuilds/{id}
    const done = await stack.api('GET', `/api/v2/workspacebuilds/${build.id}`, { token: world.alice.token });
    assert.equal(done.body.status, 'stopped');
    assert.equal(done.body.job.status, 'succeeded');
    assert.ok(done.body.job.completed_at);
  });

  test('resume answers 202 with the start build; pausing a paused task queues another stop', async () => {
    const task = await newTask(world.alice);
    await until(world.alice, task.id, 'active');
    assert.equal((await post(world.alice, `/api/v2/tasks/me/${task.id}/pause`)).status, 202);
    await until(world.alice, task.id, 'paused');
    const again = await post(world.alice, `/api/v2/tasks/me/${task.id}/pause`);
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.equal(again.body.workspace_build.build_number, 3);
    await until(world.alice, task.id, 'paused');
    const resumed = await post(world.alice, `/api/v2/tasks/me/${task.id}/resume`);
    assert.equal(resumed.status, 202, JSON.stringify(resumed.body));
    assert.equal(resumed.body.workspace_build.transition, 'start');
    assert.equal(resumed.body.workspace_build.reason, 'task_resume');
    assert.equal(resumed.body.workspace_build.build_number, 4);
    await until(world.alice, task.id, 'active');
  });

  test('resuming a running workspace is 409', async () => {
    const task = await newTask(world.alice);
    await until(world.alice, task.id, 'active');
    const res = await post(world.alice, `/api/v2/tasks/me/${task.id}/resume`);
    assert.equal(res.status, 409);
    assert.deepEqual(res.body, { message: 'Task workspace is already running.', detail: 'Workspace status is "running".' });
  });

  test('a build in flight makes the next one 409', async () => {
    const task = await newTask(world.alice, { versionId: slowVersionId });
    await until(world.alice, task.id, 'active');
    assert.equal((await post(world.alice, `/api/v2/tasks/me/${task.id}/pause`)).status, 202);
    for (const op of ['pause', 'resume']) {
      const res = await post(world.alice, `/api/v2/tasks/me/${task.id}/${op}`);
      assert.equal(res.status, 409, op);
      assert.deepEqual(res.body, { message: 'A workspace build is already active.' });
    }
    const del = await stack.api('DELETE', `/api/v2/tasks/me/${task.id}`, { token: world.alice.token });
    assert.equal(del.status, 409);
    await until(world.alice, task.id, 'paused');
  });

  test('a pause retried with the same Idempotency-Key gets the first build, not a second one', async () => {
    const task = await newTask(world.alice, { versionId: slowVersionId });
    await until(world.alice, task.id, 'active');
    const send = () =>
      stack.api('POST', `/api/v2/tasks/me/${task.id}/pause`, { token: world.alice.token, headers: { 'Idempotency-Key': 'pause-1' } });
    const first = await send();
    assert.equal(first.status, 202);
    // a client that timed out sends the same request again while the stop build is still running
    const again = await send();
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.equal(again.body.workspace_build.id, first.body.workspace_build.id);
    assert.equal(again.body.workspace_build.build_number, 2);
    // without the key the same request is the spec's conflict
    assert.equal((await post(world.alice, `/api/v2/tasks/me/${task.id}/pause`)).status, 409);
    await until(world.alice, task.id, 'paused');
    const builds = await sql<{ n: string }>(stack, 'select count(*) as n from workspace_builds where workspace_id = ?', [task.workspace_id]);
    assert.equal(Number(builds[0]!.n), 2);
  });

  test('role matrix on another user\'s task as /tasks/me/{uuid}: member 404, org admin 202, owner 202', async () => {
    const task = await newTask(world.alice);
    await until(world.alice, task.id, 'active');
    for (const who of [world.bob, zed]) {
      const res = await post(who, `/api/v2/tasks/me/${task.id}/pause`);
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, { message: 'Resource not found or you do not have access to this resource' });
    }
    const byAdmin = await post(world.admin, `/api/v2/tasks/me/${task.id}/pause`);
    assert.equal(byAdmin.status, 202);
    assert.equal(byAdmin.body.workspace_build.initiator_name, 'ada');
    await until(world.alice, task.id, 'paused');
    assert.equal((await post(world.owner, `/api/v2/tasks/me/${task.id}/resume`)).status, 202);
    await until(world.alice, task.id, 'active');
    // older SDKs post to the experimental prefix
    assert.equal((await post(world.owner, `/api/experimental/tasks/me/${task.id}/pause`)).status, 202);
    await until(world.alice, task.id, 'paused');
  });
});

describe('tasks whose workflow is gone', () => {
  test('a task written without a workflow is paused by one started from its records', async () => {
    const task = await seedTaskOf(stack, world, world.alice);
    await addBuild(stack, task, { transition: 'start', jobStatus: 'succeeded', agent: 'ready', app: { health: 'healthy' } });
    assert.equal(await statusOf(world.alice, task.taskId), 'active');
    const res = await post(world.alice, `/api/v2/tasks/me/${task.taskId}/pause`);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.workspace_build.build_number, 2);
    assert.equal(res.body.workspace_build.transition, 'stop');
    await until(world.alice, task.taskId, 'paused');
  });
});

describe('PATCH /tasks/{user}/{task}/input (§3.6)', () => {
  const patch = (who: Person, taskId: string, body: unknown) =>
    stack.api('PATCH', `/api/v2/tasks/me/${taskId}/input`, { token: who.token, body });

  test('only while paused; empty after trimming is 400 first; the stored prompt is untrimmed and audited without its text', async () => {
    const task = await newTask(world.alice, { input: 'first prompt' });
    await until(world.alice, task.id, 'active');
    for (const input of ['', '  \n\t ']) {
      const res = await patch(world.alice, task.id, { input });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, { message: 'Task input is required.' });
    }
    const running = await patch(world.alice, task.id, { input: 'new prompt' });
    assert.equal(running.status, 409);
    assert.deepEqual(running.body, {
      message: 'Unable to update task input, task must be paused.',
      detail: "Please stop the task's workspace before updating the input.",
    });
    assert.equal((await post(world.alice, `/api/v2/tasks/me/${task.id}/pause`)).status, 202);
    await until(world.alice, task.id, 'paused');
    const ok = await patch(world.alice, task.id, { input: '  second prompt \n' });
    assert.equal(ok.status, 204);
    const got = await stack.api('GET', `/api/v2/tasks/me/${task.id}`, { token: world.alice.token });
    assert.equal(got.body.initial_prompt, '  second prompt \n');
    const audit = await sql<{ diff: unknown; status_code: number }>(
      stack,
      "select diff, status_code from audit_logs where resource_type = 'task' and action = 'write' and resource_id = ? and status_code = 204",
      [task.id],
    );
    assert.equal(audit.length, 1);
    // the prompt is its owner's secret: the row says it changed, without either value
    assert.deepEqual(audit[0]!.diff, { prompt: { old: '', new: '', secret: true } });
  });

  test('another member cannot change it: 404', async () => {
    const task = await newTask(world.alice);
    assert.equal((await patch(world.bob, task.id, { input: 'mine now' })).status, 404);
  });
});

describe('DELETE /tasks/{user}/{task} (§3.5)', () => {
  test('202 with an empty body; the task is gone at once and its workspace is deleted', async () => {
    const task = await newTask(world.alice);
    await until(world.alice, task.id, 'active');
    const res = await stack.api('DELETE', `/api/v2/tasks/me/${task.id}`, { token: world.alice.token });
    assert.equal(res.status, 202);
    assert.equal(res.body, '');
    assert.equal((await stack.api('GET', `/api/v2/tasks/me/${task.id}`, { token: world.alice.token })).status, 404);
    const listed = await stack.api('GET', '/api/v2/tasks', { token: world.alice.token });
    assert.ok(!listed.body.tasks.some((t: { id: string }) => t.id === task.id));
    const ws = await waitFor(async () => {
      const got = await stack.api('GET', `/api/v2/workspaces/${task.workspace_id}?include_deleted=true`, { token: world.alice.token });
      return got.body.latest_build?.status === 'deleted' ? got.body : null;
    }, { what: 'workspace deleted' });
    assert.equal(ws.latest_build.transition, 'delete');
    assert.equal(ws.latest_build.reason, 'Deleted via tasks API');
    // deleting again: there is no such task any more
    assert.equal((await stack.api('DELETE', `/api/v2/tasks/me/${task.id}`, { token: world.alice.token })).status, 404);
    // the name is free again
    const reused = await stack.api('POST', '/api/v2/tasks/me', {
      token: world.alice.token,
      body: { template_version_id: world.version.id, input: 'x', name: task.name },
    });
    assert.equal(reused.status, 201, JSON.stringify(reused.body));
  });

  test('an org admin deletes a member\'s task by id; another member gets 404', async () => {
    const task = await newTask(world.alice);
    await until(world.alice, task.id, 'active');
    assert.equal((await stack.api('DELETE', `/api/v2/tasks/me/${task.id}`, { token: world.bob.token })).status, 404);
    assert.equal((await stack.api('DELETE', `/api/v2/tasks/me/${task.id}`, { token: world.admin.token })).status, 202);
    assert.equal((await stack.api('GET', `/api/v2/tasks/me/${task.id}`, { token: world.alice.token })).status, 404);
  });
});
